from lgan_video.cli import main

main()
