// The `videossl` tool: the command set of VideoSSLCommands with the built-in backbones and objectives.
import VideoSSLCommands

VideoSSLCommand.main()
