//go:build amd64 && !purego

package wordops

import "golang.org/x/sys/cpu"

// useAVX2 says whether the assembly kernels can run (AVX2, and the OS
// saves the YMM registers: cpu.X86.HasAVX2 checks both).
var useAVX2 = cpu.X86.HasAVX2

// The assembly kernels work on k groups of 4 words (k > 0) at p, a, b...
// (any alignment); see wordops_amd64.s.

//go:noescape
func popcountAVX2(p *uint64, k int) int64

//go:noescape
func lifeCountsAVX2(cur, prev, before *uint64, k int) (n, ret, nw int64)

//go:noescape
func orCountAVX2(a, b *uint64, k int) int64

//go:noescape
func orAVX2(dst, a, b *uint64, k int)

//go:noescape
func andCountAVX2(dst, a, b *uint64, k int) int64

//go:noescape
func orAndAVX2(dst, a, b *uint64, k int)

//go:noescape
func fullAddAVX2(sum, carry, x, y, z *uint64, k int)

//go:noescape
func orAccOrCountAVX2(dst, src, s *uint64, k int) int64

//go:noescape
func orAccPopAVX2(dst, src *uint64, k int) int64
