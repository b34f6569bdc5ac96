# toolchain-qq.cmake: cross-compile with QQ_CC (static) and run every test
# program through qq-exec in the VM of the workspace QNX_QEMU_WORKSPACE.
# CMAKE_CROSSCOMPILING_EMULATOR is a ;-list: the emulator and its own
# arguments, put before the test's command by add_test (CMake 3.15+).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR $ENV{QQ_ARCH})
set(CMAKE_C_COMPILER $ENV{QQ_CC})
set(CMAKE_EXE_LINKER_FLAGS_INIT -static)
# A -DCMAKE_CROSSCOMPILING_EMULATOR=... on the command line (more qq-exec
# options, such as --boot) wins over this default.
if(NOT CMAKE_CROSSCOMPILING_EMULATOR)
	set(CMAKE_CROSSCOMPILING_EMULATOR qq-exec;--workspace;$ENV{QNX_QEMU_WORKSPACE})
endif()
