package bundle

import "io/fs"

// fileID reports ok false: Windows' FileInfo from a directory walk carries
// no file identity or link count. So on Windows pack detects no hard links
// (each name is packed as a separate regular file) and --dereference does
// not recognise a link to a directory that holds it (the walk ends on
// Windows' path-length or link-depth limit, as an error, not a loop refusal).
func fileID(fs.FileInfo) (id [2]uint64, links uint64, ok bool) { return id, 0, false }
