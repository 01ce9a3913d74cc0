//go:build amd64 && !purego

#include "textflag.h"

// popcount of each byte of a nibble, both 128-bit lanes.
DATA nibblePop<>+0x00(SB)/8, $0x0302020102010100
DATA nibblePop<>+0x08(SB)/8, $0x0403030203020201
DATA nibblePop<>+0x10(SB)/8, $0x0302020102010100
DATA nibblePop<>+0x18(SB)/8, $0x0403030203020201
GLOBL nibblePop<>(SB), RODATA|NOPTR, $32

DATA lowNibbles<>+0x00(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA lowNibbles<>+0x08(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA lowNibbles<>+0x10(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA lowNibbles<>+0x18(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL lowNibbles<>(SB), RODATA|NOPTR, $32

// POPADD adds the popcounts of V's four words to ACC's four quadwords
// (Y15 the nibble table, Y14 the low-nibble mask, Y13 zero; T1, T2 scratch).
#define POPADD(V, ACC, T1, T2) \
	VPAND     V, Y14, T1  \
	VPSRLW    $4, V, T2   \
	VPAND     T2, Y14, T2 \
	VPSHUFB   T1, Y15, T1 \
	VPSHUFB   T2, Y15, T2 \
	VPADDB    T1, T2, T1  \
	VPSADBW   Y13, T1, T1 \
	VPADDQ    T1, ACC, ACC

// BYTEADD adds the popcounts of V's bytes to ACC's bytes (at most 8 per
// byte a call: 31 calls before ACC must be flushed with FLUSH).
#define BYTEADD(V, ACC, T1, T2) \
	VPAND     V, Y14, T1  \
	VPSRLW    $4, V, T2   \
	VPAND     T2, Y14, T2 \
	VPSHUFB   T1, Y15, T1 \
	VPSHUFB   T2, Y15, T2 \
	VPADDB    T1, ACC, ACC \
	VPADDB    T2, ACC, ACC

// FLUSH adds the byte sums of BACC to QACC's quadwords and clears BACC.
#define FLUSH(BACC, QACC) \
	VPSADBW   Y13, BACC, BACC \
	VPADDQ    BACC, QACC, QACC \
	VPXOR     BACC, BACC, BACC

// HSUM sets R to the sum of ACC's four quadwords (T scratch; ACC is lost).
#define HSUM(ACC, XACC, XT, R) \
	VEXTRACTI128 $1, ACC, XT  \
	VPADDQ       XT, XACC, XACC \
	VPSHUFD      $0x4e, XACC, XT \
	VPADDQ       XT, XACC, XACC \
	VMOVQ        XACC, R

#define SETUP \
	VMOVDQU nibblePop<>(SB), Y15  \
	VMOVDQU lowNibbles<>(SB), Y14 \
	VPXOR   Y13, Y13, Y13

// func popcountAVX2(p *uint64, k int) int64
TEXT ·popcountAVX2(SB), NOSPLIT, $0-24
	MOVQ p+0(FP), SI
	MOVQ k+8(FP), CX
	SETUP
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	// two accumulators: groups of 8 words, then one of 4 if k is odd
	SHRQ $1, CX
	JZ   popOne
popLoop:
	VMOVDQU (SI), Y2
	VMOVDQU 32(SI), Y3
	POPADD(Y2, Y0, Y4, Y5)
	POPADD(Y3, Y1, Y6, Y7)
	ADDQ $64, SI
	DECQ CX
	JNZ  popLoop
popOne:
	MOVQ k+8(FP), CX
	ANDQ $1, CX
	JZ   popDone
	VMOVDQU (SI), Y2
	POPADD(Y2, Y0, Y4, Y5)
popDone:
	VPADDQ Y1, Y0, Y0
	HSUM(Y0, X0, X1, AX)
	MOVQ AX, ret+16(FP)
	VZEROUPPER
	RET

// func lifeCountsAVX2(cur, prev, before *uint64, k int) (n, ret, nw int64)
TEXT ·lifeCountsAVX2(SB), NOSPLIT, $0-56
	MOVQ cur+0(FP), SI
	MOVQ prev+8(FP), DI
	MOVQ before+16(FP), DX
	MOVQ k+24(FP), CX
	SETUP
	VPXOR Y10, Y10, Y10 // |cur|, quadwords
	VPXOR Y11, Y11, Y11 // |cur ∩ prev|
	VPXOR Y12, Y12, Y12 // |cur − (prev ∪ before)|
	VPXOR Y0, Y0, Y0    // the same three, bytes (flushed every 31 groups)
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
lifeOuter:
	MOVQ $31, R8
	CMPQ CX, R8
	CMOVQLT CX, R8
	SUBQ R8, CX
lifeLoop:
	VMOVDQU (SI), Y3     // x
	VMOVDQU (DI), Y4     // p
	VPOR    (DX), Y4, Y5 // h | p
	VMOVDQU Y5, (DX)
	VPAND   Y3, Y4, Y4   // x & p
	VPANDN  Y3, Y5, Y5   // x &^ (h | p)
	BYTEADD(Y3, Y0, Y6, Y7)
	BYTEADD(Y4, Y1, Y8, Y9)
	BYTEADD(Y5, Y2, Y6, Y7)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, DX
	DECQ R8
	JNZ  lifeLoop
	FLUSH(Y0, Y10)
	FLUSH(Y1, Y11)
	FLUSH(Y2, Y12)
	TESTQ CX, CX
	JNZ  lifeOuter
	HSUM(Y10, X10, X3, AX)
	MOVQ AX, n+32(FP)
	HSUM(Y11, X11, X3, AX)
	MOVQ AX, ret+40(FP)
	HSUM(Y12, X12, X3, AX)
	MOVQ AX, nw+48(FP)
	VZEROUPPER
	RET

// func orCountAVX2(a, b *uint64, k int) int64
TEXT ·orCountAVX2(SB), NOSPLIT, $0-32
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ k+16(FP), CX
	SETUP
	VPXOR Y10, Y10, Y10
orCountLoop:
	VMOVDQU (SI), Y0
	VPOR    (DI), Y0, Y0
	POPADD(Y0, Y10, Y6, Y7)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  orCountLoop
	HSUM(Y10, X10, X0, AX)
	MOVQ AX, ret+24(FP)
	VZEROUPPER
	RET

// func orAVX2(dst, a, b *uint64, k int)
TEXT ·orAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ k+24(FP), CX
orLoop:
	VMOVDQU (SI), Y0
	VPOR    (DI), Y0, Y0
	VMOVDQU Y0, (DX)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, DX
	DECQ CX
	JNZ  orLoop
	VZEROUPPER
	RET

// func andCountAVX2(dst, a, b *uint64, k int) int64
TEXT ·andCountAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ k+24(FP), CX
	SETUP
	VPXOR Y10, Y10, Y10
andCountLoop:
	VMOVDQU (SI), Y0
	VPAND   (DI), Y0, Y0
	VMOVDQU Y0, (DX)
	POPADD(Y0, Y10, Y6, Y7)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, DX
	DECQ CX
	JNZ  andCountLoop
	HSUM(Y10, X10, X0, AX)
	MOVQ AX, ret+32(FP)
	VZEROUPPER
	RET

// func orAndAVX2(dst, a, b *uint64, k int)
TEXT ·orAndAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ k+24(FP), CX
orAndLoop:
	VMOVDQU (SI), Y0
	VPAND   (DI), Y0, Y0
	VPOR    (DX), Y0, Y0
	VMOVDQU Y0, (DX)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, DX
	DECQ CX
	JNZ  orAndLoop
	VZEROUPPER
	RET

// func fullAddAVX2(sum, carry, x, y, z *uint64, k int)
TEXT ·fullAddAVX2(SB), NOSPLIT, $0-48
	MOVQ sum+0(FP), DX
	MOVQ carry+8(FP), R8
	MOVQ x+16(FP), SI
	MOVQ y+24(FP), DI
	MOVQ z+32(FP), R9
	MOVQ k+40(FP), CX
fullAddLoop:
	VMOVDQU (SI), Y0
	VMOVDQU (DI), Y1
	VMOVDQU (R9), Y2
	VPXOR   Y0, Y1, Y3 // u = x ^ y
	VPAND   Y0, Y1, Y4 // x & y
	VPXOR   Y3, Y2, Y5 // u ^ z
	VPAND   Y3, Y2, Y3 // u & z
	VPOR    Y3, Y4, Y4
	VMOVDQU Y5, (DX)
	VMOVDQU Y4, (R8)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R9
	ADDQ $32, DX
	ADDQ $32, R8
	DECQ CX
	JNZ  fullAddLoop
	VZEROUPPER
	RET

// func orAccOrCountAVX2(dst, src, s *uint64, k int) int64
TEXT ·orAccOrCountAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DX
	MOVQ src+8(FP), SI
	MOVQ s+16(FP), DI
	MOVQ k+24(FP), CX
	SETUP
	VPXOR Y10, Y10, Y10
orAccOrCountLoop:
	VMOVDQU (DX), Y0
	VPOR    (SI), Y0, Y0
	VMOVDQU Y0, (DX)
	VPOR    (DI), Y0, Y0
	POPADD(Y0, Y10, Y6, Y7)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, DX
	DECQ CX
	JNZ  orAccOrCountLoop
	HSUM(Y10, X10, X0, AX)
	MOVQ AX, ret+32(FP)
	VZEROUPPER
	RET

// func orAccPopAVX2(dst, src *uint64, k int) int64
TEXT ·orAccPopAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DX
	MOVQ src+8(FP), SI
	MOVQ k+16(FP), CX
	SETUP
	VPXOR Y10, Y10, Y10
orAccPopLoop:
	VMOVDQU (SI), Y0
	VPOR    (DX), Y0, Y1
	VMOVDQU Y1, (DX)
	POPADD(Y0, Y10, Y6, Y7)
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ CX
	JNZ  orAccPopLoop
	HSUM(Y10, X10, X0, AX)
	MOVQ AX, ret+24(FP)
	VZEROUPPER
	RET
