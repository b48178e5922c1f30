package main

import (
	"os"
	"syscall"
)

// sysProcAttr makes the kernel kill a proxy if the test binary dies without
// running its cleanups, so that none outlives its test on a shared machine,
// and puts it in a process group of its own for killProcess.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}

// killProcess kills p's process group: p and the workers it forked
// (php-fpm's), which would otherwise keep its output pipe open.
func killProcess(p *os.Process) {
	_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
	_ = p.Kill()
}
