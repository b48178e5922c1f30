//go:build !linux

package main

import (
	"os"
	"syscall"
)

// sysProcAttr: only Linux has a parent-death signal; elsewhere the proxies
// rely on the test cleanups.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// killProcess kills p (its workers, if any, only on Linux).
func killProcess(p *os.Process) { _ = p.Kill() }
