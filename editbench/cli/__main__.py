from editbench.cli import main

main()
