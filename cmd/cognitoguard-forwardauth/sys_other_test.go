//go:build !linux

package main

import "syscall"

// sysProcAttr: only Linux has a parent-death signal; elsewhere the proxies
// rely on the test cleanups.
func sysProcAttr() *syscall.SysProcAttr { return nil }
