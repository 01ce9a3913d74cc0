//go:build !amd64 || purego

package wordops

// useAVX2 is false: the pure-Go kernels run.
const useAVX2 = false

func popcountAVX2(p *uint64, k int) int64                                { panic("unreachable") }
func lifeCountsAVX2(cur, prev, before *uint64, k int) (n, ret, nw int64) { panic("unreachable") }
func orCountAVX2(a, b *uint64, k int) int64                              { panic("unreachable") }
func orAVX2(dst, a, b *uint64, k int)                                    { panic("unreachable") }

func andCountAVX2(dst, a, b *uint64, k int) int64 { panic("unreachable") }
func orAndAVX2(dst, a, b *uint64, k int)          { panic("unreachable") }

func fullAddAVX2(sum, carry, x, y, z *uint64, k int) { panic("unreachable") }

func orAccOrCountAVX2(dst, src, s *uint64, k int) int64 { panic("unreachable") }
func orAccPopAVX2(dst, src *uint64, k int) int64        { panic("unreachable") }
