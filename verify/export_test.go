package verify

// ArchiveOf is archiveOf for the external tests.
var ArchiveOf = archiveOf
