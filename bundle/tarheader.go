package bundle

import (
	"archive/tar"
	"bytes"
)

// appendHeader appends to b the header of hdr exactly as archive/tar's
// Writer.WriteHeader writes it, without its per-header cost (format
// selection, a map, string building: a tenth of pack's time on 300,000 small
// files). The headers pack writes (uid/gid 0, no owner names, mtime at 1 s)
// mostly fit a plain USTAR block, which is formatted here; any other header
// (a name or link target over 100 bytes or not ASCII, a size or mtime
// octal cannot hold) goes through a tar.Writer writing into scratch, so that
// the bytes never depend on which way a header took (TestAppendHeader
// compares both ways). The caller writes the content and its padding
// (tarPadding) after it.
func appendHeader(b []byte, hdr *tar.Header, scratch *bytes.Buffer) ([]byte, error) {
	if !plainUSTAR(hdr) {
		scratch.Reset()
		if err := tar.NewWriter(scratch).WriteHeader(hdr); err != nil {
			return b, err
		}
		return append(b, scratch.Bytes()...), nil
	}
	b = append(b, make([]byte, tarBlock)...)
	blk := b[len(b)-tarBlock:]
	copy(blk[0:100], hdr.Name)
	tarOctal(blk[100:108], hdr.Mode)
	tarOctal(blk[108:116], 0) // uid
	tarOctal(blk[116:124], 0) // gid
	tarOctal(blk[124:136], hdr.Size)
	tarOctal(blk[136:148], hdr.ModTime.Unix())
	blk[156] = hdr.Typeflag
	copy(blk[157:257], hdr.Linkname)
	copy(blk[257:265], "ustar\x0000")
	tarOctal(blk[329:337], 0) // devmajor
	tarOctal(blk[337:345], 0) // devminor
	// The checksum: the sum of the block's bytes, its own field counted as
	// spaces; from byte 345 (the name prefix, unused here) on all are zero.
	sum := int64(8 * ' ')
	for _, c := range blk[:148] {
		sum += int64(c)
	}
	for _, c := range blk[156:345] {
		sum += int64(c)
	}
	tarOctal(blk[148:155], sum)
	blk[155] = ' '
	return b, nil
}

// tarBlock is the tar block size (bytes).
const tarBlock = 512

// tarPadding is the number of zero bytes after size bytes of content.
func tarPadding(size int64) int64 { return -size & (tarBlock - 1) }

// plainUSTAR reports whether archive/tar writes hdr as one USTAR block with
// no name split (the only case appendHeader formats itself).
func plainUSTAR(hdr *tar.Header) bool {
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink:
	default:
		return false
	}
	const max11 = 1 << 33 // what 11 octal digits hold
	mtime := hdr.ModTime.Unix()
	return plainName(hdr.Name) && plainName(hdr.Linkname) &&
		hdr.Mode >= 0 && hdr.Mode < 1<<21 && hdr.Size >= 0 && hdr.Size < max11 &&
		mtime >= 0 && mtime < max11 && hdr.ModTime.Nanosecond() == 0 &&
		hdr.Uid == 0 && hdr.Gid == 0 && hdr.Uname == "" && hdr.Gname == "" &&
		hdr.Devmajor == 0 && hdr.Devminor == 0 && hdr.Format == tar.FormatUnknown &&
		len(hdr.PAXRecords) == 0 && noXattrs(hdr) && hdr.AccessTime.IsZero() && hdr.ChangeTime.IsZero()
}

// noXattrs: a header with the deprecated Xattrs is written as PAX.
func noXattrs(hdr *tar.Header) bool {
	//lint:ignore SA1019 read to send such a header to archive/tar, never written
	return len(hdr.Xattrs) == 0
}

// plainName reports whether s fits a USTAR name field as it is: at most 100
// bytes of ASCII without NUL.
func plainName(s string) bool {
	if len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 || c >= 0x80 {
			return false
		}
	}
	return true
}

// tarOctal writes x into the field b as archive/tar does: zero-padded octal
// digits and a NUL; x must fit (plainUSTAR checked it).
func tarOctal(b []byte, x int64) {
	i := len(b) - 1
	b[i] = 0
	for i > 0 {
		i--
		b[i] = byte('0' + x&7)
		x >>= 3
	}
}
