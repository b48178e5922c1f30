//go:build !linux

package redistest

import "syscall"

// sysProcAttr: only Linux has a parent-death signal; elsewhere the servers
// rely on the test cleanups.
func sysProcAttr() *syscall.SysProcAttr { return nil }
