//go:build unix

package storage

import "golang.org/x/sys/unix"

// freeSpace returns the bytes available to this process on dir's file
// system.
func freeSpace(dir string) (int64, bool) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return int64(st.Bavail) * int64(st.Bsize), true
}

// checkWritable reports a directory this process cannot write, such as
// one on a read-only file system.
func checkWritable(dir string) error {
	return unix.Access(dir, unix.W_OK|unix.X_OK)
}
