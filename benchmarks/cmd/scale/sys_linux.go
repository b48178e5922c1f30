package main

import "syscall"

// sysProcAttr kills the redis-servers if this command dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
