from cuijiao.cli import main

main()
