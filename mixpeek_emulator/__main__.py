from mixpeek_emulator.cli import main

main()
