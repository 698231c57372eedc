package recbench

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"civicam/internal/procfs"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat: 100 on every Linux
// architecture Go runs on (reading sysconf would need cgo).
const clockTicks = 100

// sample is what the harness reads of a child process from /proc, from outside, so that the
// measuring costs the measured process nothing.
type sample struct {
	CPU   time.Duration // utime + stime
	RSS   uint64        // VmRSS, bytes
	HWM   uint64        // VmHWM, the peak RSS over the process's life, bytes
	WChar int64         // bytes passed to write(2) and friends, sockets included
}

func readProc(pid int) (sample, error) {
	var s sample
	dir := fmt.Sprintf("/proc/%d", pid)
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return s, fmt.Errorf("read cpu time: %w", err)
	}
	if s.CPU, err = parseStatCPU(stat); err != nil {
		return s, fmt.Errorf("%s/stat: %w", dir, err)
	}
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return s, fmt.Errorf("read memory: %w", err)
	}
	s.RSS = procfs.Field(status, "VmRSS:") * 1024
	s.HWM = procfs.Field(status, "VmHWM:") * 1024
	io, err := os.ReadFile(dir + "/io")
	if err != nil {
		return s, fmt.Errorf("read io counters: %w", err)
	}
	s.WChar = int64(procfs.Field(io, "wchar:"))
	return s, nil
}

// parseStatCPU reads utime and stime (fields 14 and 15) of /proc/PID/stat. The command name
// (field 2) may hold spaces and parentheses, so fields are counted from its closing parenthesis.
func parseStatCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("no command name in %q", stat)
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("%d fields after the command name; want at least 13", len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cpu ticks %q: %w", s, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// dirBytes is the total size of the regular files under dir: what a recorder has written.
func dirBytes(dir string) (total int64, files int, err error) {
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil // a file removed under our feet, or dir not yet created
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		total += info.Size()
		files++
		return nil
	})
	return total, files, err
}

// streamsWithFiles counts the subdirectories of dir (one per stream, as both recorders lay them
// out) that hold at least one file.
func streamsWithFiles(dir string) int {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		if _, files, _ := dirBytes(filepath.Join(dir, e.Name())); files > 0 {
			n++
		}
	}
	return n
}
