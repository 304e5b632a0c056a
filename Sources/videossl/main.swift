// The `videossl` tool: the command set of VideoSSLCommands with the built-in backbones and objectives,
// and Open MPI for `mpirun -np N videossl train …` (joined only when launched that way or asked).
import Distributed
import VideoSSLCommands

MPIProcessGroup.register()
VideoSSLCommand.main()
