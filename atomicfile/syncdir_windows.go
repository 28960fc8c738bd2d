package atomicfile

// SyncDir does nothing on Windows and returns nil: Windows has no fsync of
// a directory (FlushFileBuffers needs a handle opened for writing, which a
// directory cannot be), so a rename or removal is as durable as NTFS's
// metadata journal makes it. A committed file's data is still synced.
func SyncDir(dir string) error { return nil }
