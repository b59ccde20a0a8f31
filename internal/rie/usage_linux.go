//go:build linux

package rie

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat's CPU times: 100 on
// every Linux architecture Lambda and this project run on.
const clockTicks = 100

// PeakRSS returns the function process's peak resident set size in bytes
// (VmHWM), the figure closest to what Lambda reports as "Max Memory Used".
// The function process is the emulator's child whose executable is the
// binary given to Start; it exists from the first Invoke on.
func (f *Function) PeakRSS() (int64, error) {
	pid, err := f.functionPID()
	if err != nil {
		return 0, err
	}
	file, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("peak RSS: %w", err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("peak RSS: VmHWM %q: %w", v, err)
			}
			return kb * 1024, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("peak RSS: %w", err)
	}
	return 0, fmt.Errorf("peak RSS: no VmHWM in /proc/%d/status", pid)
}

// functionPID finds the function process: a child of the emulator (which
// gives it a process group of its own) whose executable is the started binary.
func (f *Function) functionPID() (int, error) {
	want, err := filepath.EvalSymlinks(f.binary)
	if err != nil {
		return 0, fmt.Errorf("function process: %w", err)
	}
	parent := strconv.Itoa(f.cmd.Process.Pid)
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue // the process ended meanwhile
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(b[i+1:]))
		if len(fields) < 3 || fields[1] != parent {
			continue
		}
		dir := filepath.Dir(st)
		if exe, err := os.Readlink(filepath.Join(dir, "exe")); err == nil && exe == want {
			return strconv.Atoi(filepath.Base(dir))
		}
	}
	return 0, fmt.Errorf("function process: no child of the emulator (pid %s) runs %s (not invoked yet?)", parent, want)
}

// CPUTime returns the CPU time (user and system) the function process has
// used so far. Lambda gives a function CPU in proportion to its memory
// (one vCPU at 1,769 MB), so CPU time, not wall time on this machine, says
// how long a run takes at a given memory size.
func (f *Function) CPUTime() (time.Duration, error) {
	pid, err := f.functionPID()
	if err != nil {
		return 0, err
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("cpu time: %w", err)
	}
	i := strings.LastIndexByte(string(b), ')')
	fields := strings.Fields(string(b[i+1:]))
	// After "(comm)": state is field 3 of stat(5), utime 14 and stime 15.
	if len(fields) < 13 {
		return 0, fmt.Errorf("cpu time: short /proc/%d/stat", pid)
	}
	var ticks int64
	for _, fld := range fields[11:13] {
		v, err := strconv.ParseInt(fld, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cpu time: /proc/%d/stat: %w", pid, err)
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}
