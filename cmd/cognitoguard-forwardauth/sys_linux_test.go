package main

import "syscall"

// sysProcAttr makes the kernel kill a proxy if the test binary dies without
// running its cleanups, so that none outlives its test on a shared machine.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
