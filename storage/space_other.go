//go:build !unix

package storage

func freeSpace(string) (int64, bool) { return 0, false }

func checkWritable(string) error { return nil }
