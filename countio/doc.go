// Package countio is the one counting reader and counting writer of
// ocibundle. Every stream whose bytes are counted, reported as progress,
// teed into a hash, bounded, or stopped by a context goes through them;
// each of these is an option of the same type, not a type of its own.
package countio
