package bitmapist

import (
	"encoding/binary"
	"unsafe"
)

// littleEndian reports whether the machine stores words little-endian,
// so that a bitmap's bytes 8j..8j+7 are, in memory, word j as ReadWords
// reads it.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// wordView returns words first..first+n-1 of b as b's own memory, without
// a copy, when b holds all of them and their address is a multiple of 8
// on a little-endian machine; nil otherwise (the caller copies with
// ReadWords). The words alias b: they must not be modified, and b must
// outlive them.
func (b Bitmap) wordView(first, n int) []uint64 {
	off := 8 * first
	if !littleEndian || n <= 0 || off+8*n > len(b) {
		return nil
	}
	p := unsafe.Pointer(&b[off])
	if uintptr(p)%8 != 0 {
		return nil
	}
	return unsafe.Slice((*uint64)(p), n)
}
