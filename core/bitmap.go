package bitmapist

import (
	"encoding/binary"
	"math/bits"
)

// Bitmap is a bitmap held in memory, laid out as Redis stores it: user id N
// is bit 7-N%8 of byte N/8 (the most significant bit of byte 0 is id 0, the
// SETBIT order). A nil Bitmap is empty, like a missing key.
//
// The binary operations follow Redis BITOP: a missing or shorter operand
// reads as zeros and the result is as long as the longest operand.
type Bitmap []byte

// Count returns the number of set bits (Redis BITCOUNT).
func (b Bitmap) Count() int64 {
	var n int
	i := 0
	for ; i+8 <= len(b); i += 8 {
		n += bits.OnesCount64(binary.LittleEndian.Uint64(b[i:]))
	}
	for ; i < len(b); i++ {
		n += bits.OnesCount8(b[i])
	}
	return int64(n)
}

// Has reports whether bit id is set (Redis GETBIT).
func (b Bitmap) Has(id uint64) bool {
	i := id >> 3
	return i < uint64(len(b)) && b[i]&(0x80>>(id&7)) != 0
}

// Set sets bit id, growing b as SETBIT grows a string, and returns b. An
// id above MaxUserID returns b unchanged and an error wrapping
// ErrInvalidUserID, as Redis SETBIT refuses such offsets (it would need
// more than 512 MiB).
func (b Bitmap) Set(id uint64) (Bitmap, error) {
	if err := checkUserID(id); err != nil {
		return b, err
	}
	i := int(id >> 3)
	if i >= len(b) {
		b = append(b, make([]byte, i+1-len(b))...)
	}
	b[i] |= 0x80 >> (id & 7)
	return b, nil
}

// IDs returns the set bits as ascending user ids.
func (b Bitmap) IDs() []uint64 { return appendIDs(make([]uint64, 0, b.Count()), b, 0) }

// appendIDs appends the ids of the set bits of chunk, whose first bit is id
// base, in ascending order.
func appendIDs(ids []uint64, chunk []byte, base uint64) []uint64 {
	i := 0
	for ; i < len(chunk); i++ {
		// skip zero words quickly
		for i+8 <= len(chunk) && binary.LittleEndian.Uint64(chunk[i:]) == 0 {
			i += 8
		}
		if i >= len(chunk) {
			break
		}
		c := chunk[i]
		for c != 0 {
			z := bits.LeadingZeros8(c)
			ids = append(ids, base+uint64(i)*8+uint64(z))
			c &^= 0x80 >> z
		}
	}
	return ids
}

// And returns b AND o (Redis BITOP AND).
func (b Bitmap) And(o Bitmap) Bitmap {
	out := make(Bitmap, max(len(b), len(o)))
	n := min(len(b), len(o))
	i := 0
	for ; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint64(out[i:], binary.LittleEndian.Uint64(b[i:])&binary.LittleEndian.Uint64(o[i:]))
	}
	for ; i < n; i++ {
		out[i] = b[i] & o[i]
	}
	return out
}

// Or returns b OR o (Redis BITOP OR).
func (b Bitmap) Or(o Bitmap) Bitmap {
	if len(b) < len(o) {
		b, o = o, b
	}
	out := make(Bitmap, len(b))
	copy(out, b)
	return orInto(out, o)
}

// Xor returns b XOR o (Redis BITOP XOR).
func (b Bitmap) Xor(o Bitmap) Bitmap {
	if len(b) < len(o) {
		b, o = o, b
	}
	out := make(Bitmap, len(b))
	copy(out, b)
	i := 0
	for ; i+8 <= len(o); i += 8 {
		binary.LittleEndian.PutUint64(out[i:], binary.LittleEndian.Uint64(out[i:])^binary.LittleEndian.Uint64(o[i:]))
	}
	for ; i < len(o); i++ {
		out[i] ^= o[i]
	}
	return out
}

// Not returns NOT b (Redis BITOP NOT): every byte of b flipped. Bits past
// b's last byte stay unset, so NOT of {1} is {0,2,3,4,5,6,7} and NOT of an
// empty bitmap is empty. Use AndNot for a set difference.
func (b Bitmap) Not() Bitmap {
	out := make(Bitmap, len(b))
	for i, x := range b {
		out[i] = ^x
	}
	return out
}

// NotWithin returns the ids 0 .. 8*n-1 that are not in b: the complement
// of b within the first n bytes, whatever b's length (b's bytes past n
// are dropped, missing bytes read as zeros). It is the complement a
// report's segment takes (see EvalSegment); NotWithin(len(b)) is Not.
func (b Bitmap) NotWithin(n int) Bitmap {
	out := make(Bitmap, max(n, 0))
	for i := range out {
		if i < len(b) {
			out[i] = ^b[i]
		} else {
			out[i] = 0xff
		}
	}
	return out
}

// AndNot returns the ids of b that are not in o: the true set difference,
// right whatever the lengths ({1,20} AndNot {2} is {1,20}). Its length is
// that of b XOR (b AND o) in Redis, the longer of the two.
func (b Bitmap) AndNot(o Bitmap) Bitmap {
	out := make(Bitmap, max(len(b), len(o)))
	copy(out, b)
	return out.AndNotWith(o)
}

// AndCount returns the number of ids in both b and o, without building
// b AND o. It is the inner loop of cohort tables (one call per cell over
// whole bitmaps), so it counts four 64-bit words per step.
func (b Bitmap) AndCount(o Bitmap) int64 {
	n := min(len(b), len(o))
	x, y := b[:n], o[:n]
	le := binary.LittleEndian
	var c0, c1, c2, c3 int
	for len(x) >= 32 && len(y) >= 32 {
		c0 += bits.OnesCount64(le.Uint64(x[0:]) & le.Uint64(y[0:]))
		c1 += bits.OnesCount64(le.Uint64(x[8:]) & le.Uint64(y[8:]))
		c2 += bits.OnesCount64(le.Uint64(x[16:]) & le.Uint64(y[16:]))
		c3 += bits.OnesCount64(le.Uint64(x[24:]) & le.Uint64(y[24:]))
		x, y = x[32:], y[32:]
	}
	c := c0 + c1 + c2 + c3
	for i := range min(len(x), len(y)) {
		c += bits.OnesCount8(x[i] & y[i])
	}
	return int64(c)
}

// OrWith sets in b every bit of o, in place, and returns b (grown when o is
// longer). It saves the allocation of Or in loops that accumulate a union.
func (b Bitmap) OrWith(o Bitmap) Bitmap {
	if len(o) > len(b) {
		b = append(b, make([]byte, len(o)-len(b))...)
	}
	return orInto(b, o)
}

// AndNotWith clears in b every bit of o, in place, and returns b.
func (b Bitmap) AndNotWith(o Bitmap) Bitmap {
	n := min(len(b), len(o))
	i := 0
	for ; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], binary.LittleEndian.Uint64(b[i:])&^binary.LittleEndian.Uint64(o[i:]))
	}
	for ; i < n; i++ {
		b[i] &^= o[i]
	}
	return b
}

// Clone returns a copy of b.
func (b Bitmap) Clone() Bitmap {
	if b == nil {
		return nil
	}
	return append(Bitmap(nil), b...)
}

// orInto sets out |= o over len(o) bytes (out at least as long) and
// returns out, four 64-bit words a step (the inner loop of unions and
// multi-day counts).
func orInto(out, o Bitmap) Bitmap {
	le := binary.LittleEndian
	x, y := out[:len(o)], o
	for len(x) >= 32 && len(y) >= 32 {
		le.PutUint64(x[0:], le.Uint64(x[0:])|le.Uint64(y[0:]))
		le.PutUint64(x[8:], le.Uint64(x[8:])|le.Uint64(y[8:]))
		le.PutUint64(x[16:], le.Uint64(x[16:])|le.Uint64(y[16:]))
		le.PutUint64(x[24:], le.Uint64(x[24:])|le.Uint64(y[24:]))
		x, y = x[32:], y[32:]
	}
	for i := range min(len(x), len(y)) {
		x[i] |= y[i]
	}
	return out
}
