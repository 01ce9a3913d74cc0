// Package wordops holds the word kernels of the engagement reports (the
// trend in package core; lifecycle, stickiness and funnels in package
// cohort): popcounts and fused set operations over slices of 64-bit words
// (bit i of word j is user 64j+i). On amd64 with AVX2 they run in
// assembly, 4 words per instruction (a nibble-table popcount, VPSHUFB and
// VPSADBW); elsewhere, or built with the purego tag, in the pure-Go
// versions of this file (the reference the property tests compare the
// assembly with).
package wordops

import "math/bits"

// Popcount returns the number of set bits of ws.
func Popcount(ws []uint64) int64 {
	n := len(ws) &^ 3
	if n > 0 && useAVX2 {
		return popcountAVX2(&ws[0], n/4) + popcountGo(ws[n:])
	}
	return popcountGo(ws)
}

// LifeCounts returns |cur|, |cur ∩ prev| and |cur − (prev ∪ before)| and
// sets before |= prev (prev and before at least as long as cur): one
// period of a lifecycle (the active, returning and new users of cur given
// the period before, prev, and the history before that, before).
func LifeCounts(cur, prev, before []uint64) (n, ret, nw int64) {
	prev, before = prev[:len(cur)], before[:len(cur)]
	k := len(cur) &^ 3
	if k > 0 && useAVX2 {
		n, ret, nw = lifeCountsAVX2(&cur[0], &prev[0], &before[0], k/4)
		a, b, d := lifeCountsGo(cur[k:], prev[k:], before[k:])
		return n + a, ret + b, nw + d
	}
	return lifeCountsGo(cur, prev, before)
}

// OrCount returns the number of set bits of a OR b (b at least as long as
// a).
func OrCount(a, b []uint64) int64 {
	b = b[:len(a)]
	k := len(a) &^ 3
	if k > 0 && useAVX2 {
		return orCountAVX2(&a[0], &b[0], k/4) + orCountGo(a[k:], b[k:])
	}
	return orCountGo(a, b)
}

// Or sets dst = a OR b (a and b at least as long as dst).
func Or(dst, a, b []uint64) {
	a, b = a[:len(dst)], b[:len(dst)]
	k := len(dst) &^ 3
	if k > 0 && useAVX2 {
		orAVX2(&dst[0], &a[0], &b[0], k/4)
		dst, a, b = dst[k:], a[k:], b[k:]
	}
	orGo(dst, a, b)
}

func popcountGo(ws []uint64) int64 {
	n := 0
	for _, w := range ws {
		n += bits.OnesCount64(w)
	}
	return int64(n)
}

func lifeCountsGo(cur, prev, before []uint64) (n, ret, nw int64) {
	prev, before = prev[:len(cur)], before[:len(cur)]
	var a, b, d int
	for j, x := range cur {
		p, h := prev[j], before[j]
		a += bits.OnesCount64(x)
		b += bits.OnesCount64(x & p)
		d += bits.OnesCount64(x &^ (p | h))
		before[j] = h | p
	}
	return int64(a), int64(b), int64(d)
}

func orCountGo(a, b []uint64) int64 {
	b = b[:len(a)]
	n := 0
	for i, w := range a {
		n += bits.OnesCount64(w | b[i])
	}
	return int64(n)
}

func orGo(dst, a, b []uint64) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] | b[i]
	}
}

// AndCount sets dst = a AND b and returns its number of set bits (a and b
// at least as long as dst; dst may be a or b).
func AndCount(dst, a, b []uint64) int64 {
	a, b = a[:len(dst)], b[:len(dst)]
	k := len(dst) &^ 3
	if k > 0 && useAVX2 {
		return andCountAVX2(&dst[0], &a[0], &b[0], k/4) + andCountGo(dst[k:], a[k:], b[k:])
	}
	return andCountGo(dst, a, b)
}

// OrAnd sets dst |= a AND b (a and b at least as long as dst).
func OrAnd(dst, a, b []uint64) {
	a, b = a[:len(dst)], b[:len(dst)]
	k := len(dst) &^ 3
	if k > 0 && useAVX2 {
		orAndAVX2(&dst[0], &a[0], &b[0], k/4)
		dst, a, b = dst[k:], a[k:], b[k:]
	}
	orAndGo(dst, a, b)
}

func andCountGo(dst, a, b []uint64) int64 {
	a, b = a[:len(dst)], b[:len(dst)]
	n := 0
	for i := range dst {
		dst[i] = a[i] & b[i]
		n += bits.OnesCount64(dst[i])
	}
	return int64(n)
}

func orAndGo(dst, a, b []uint64) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] |= a[i] & b[i]
	}
}

// FullAdd sets sum, carry to the bitwise sum of x, y and z: sum = x ^ y ^
// z, carry = majority(x, y, z) (x, y and z at least as long as sum, carry
// as long; sum and carry must not overlap x, y or z unless equal to
// them word for word).
func FullAdd(sum, carry, x, y, z []uint64) {
	carry, x, y, z = carry[:len(sum)], x[:len(sum)], y[:len(sum)], z[:len(sum)]
	k := len(sum) &^ 3
	if k > 0 && useAVX2 {
		fullAddAVX2(&sum[0], &carry[0], &x[0], &y[0], &z[0], k/4)
		sum, carry, x, y, z = sum[k:], carry[k:], x[k:], y[k:], z[k:]
	}
	fullAddGo(sum, carry, x, y, z)
}

func fullAddGo(sum, carry, x, y, z []uint64) {
	carry, x, y, z = carry[:len(sum)], x[:len(sum)], y[:len(sum)], z[:len(sum)]
	for j := range sum {
		u := x[j] ^ y[j]
		sum[j], carry[j] = u^z[j], x[j]&y[j]|u&z[j]
	}
}

// OrAccOrCount sets dst |= src and returns the number of set bits of dst
// OR s (src and s at least as long as dst; s may be dst itself, for the
// count of dst): one period of a sliding-window OR, with dst the running
// prefix and s the suffix of the window's part before it.
func OrAccOrCount(dst, src, s []uint64) int64 {
	src, s = src[:len(dst)], s[:len(dst)]
	k := len(dst) &^ 3
	if k > 0 && useAVX2 {
		return orAccOrCountAVX2(&dst[0], &src[0], &s[0], k/4) + orAccOrCountGo(dst[k:], src[k:], s[k:])
	}
	return orAccOrCountGo(dst, src, s)
}

// OrAccPop sets dst |= src and returns the number of set bits of src
// (src at least as long as dst).
func OrAccPop(dst, src []uint64) int64 {
	src = src[:len(dst)]
	k := len(dst) &^ 3
	if k > 0 && useAVX2 {
		return orAccPopAVX2(&dst[0], &src[0], k/4) + orAccPopGo(dst[k:], src[k:])
	}
	return orAccPopGo(dst, src)
}

func orAccOrCountGo(dst, src, s []uint64) int64 {
	src, s = src[:len(dst)], s[:len(dst)]
	n := 0
	for i := range dst {
		dst[i] |= src[i]
		n += bits.OnesCount64(dst[i] | s[i])
	}
	return int64(n)
}

func orAccPopGo(dst, src []uint64) int64 {
	src = src[:len(dst)]
	n := 0
	for i := range dst {
		dst[i] |= src[i]
		n += bits.OnesCount64(src[i])
	}
	return int64(n)
}
