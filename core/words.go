package bitmapist

import "encoding/binary"

// ReadWords fills dst with the 64-bit words of b starting at word first:
// dst[i] is bytes 8*(first+i) .. 8*(first+i)+7 of b read little-endian, so
// it holds the bits of user ids 64*(first+i) .. 64*(first+i)+63 (in a fixed
// order within the word). Bytes past b's end read as zero, as in Redis.
// Counting and AND/OR/AND NOT of words read this way give the same results
// as on the bitmaps, which is how the engagement reports count: one 64-bit
// popcount per word, never a loop over ids.
func (b Bitmap) ReadWords(dst []uint64, first int) {
	off := first * 8
	if full := b[min(off, len(b)):]; len(full) >= 8*len(dst) {
		full = full[:8*len(dst)]
		for i := range dst {
			dst[i] = binary.LittleEndian.Uint64(full[8*i:])
		}
		return
	}
	i := 0
	for ; i < len(dst) && off+8 <= len(b); i, off = i+1, off+8 {
		dst[i] = binary.LittleEndian.Uint64(b[off:])
	}
	if i < len(dst) && off < len(b) {
		var w [8]byte
		copy(w[:], b[off:])
		dst[i] = binary.LittleEndian.Uint64(w[:])
		i++
	}
	clear(dst[i:])
}

// Words returns the number of 64-bit words that hold b: len(b)/8 rounded
// up.
func (b Bitmap) Words() int { return (len(b) + 7) / 8 }
