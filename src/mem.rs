//! `memcpy`, `memmove`, `memcmp` and `bcmp` for the static musl build on x86-64.
//!
//! A load copies a few thousand short strings (names, values, paths), and musl's x86-64
//! `memcpy` starts every copy with byte moves to align and a `rep movsq`, whose start-up cost
//! dwarfs a 20-byte copy: it was a sixth of a load's user time. Its `memcmp` compares one
//! byte at a time. These versions copy and compare short runs with a few overlapping loads
//! and stores, longer ones 32 bytes per step, and hand very long copies to `rep movsb`.
//!
//! The same text is assembled twice: with no prefix in the musl build, where the static link
//! takes these definitions instead of libc's, and as `strata_memcpy` etc. in unit tests (on
//! any x86-64 target), which check them against plain loops for every length, offset and
//! overlap that matters. Elsewhere the platform's functions serve.

/// The four functions, their names prefixed by `$p`.
macro_rules! mem_functions {
    ($p:literal) => {
        core::arch::global_asm!(concat!(
            // ---- memcpy(dst: rdi, src: rsi, n: rdx) -> dst
            // Every path up to 32 bytes loads all it copies before storing any of it, so
            // memmove can use them for overlapping buffers too.
            ".pushsection .text.",
            $p,
            "memcpy,\"ax\",@progbits\n",
            ".globl ",
            $p,
            "memcpy\n",
            ".type ",
            $p,
            "memcpy,@function\n",
            ".p2align 4\n",
            $p,
            "memcpy:\n",
            ".L",
            $p,
            "cp:\n",
            "    mov rax, rdi\n",
            "    cmp rdx, 16\n",
            "    jbe .L",
            $p,
            "cp_le16\n",
            "    cmp rdx, 32\n",
            "    ja .L",
            $p,
            "cp_gt32\n",
            // 17..=32: the first and the last 16 bytes.
            "    movups xmm0, xmmword ptr [rsi]\n",
            "    movups xmm1, xmmword ptr [rsi + rdx - 16]\n",
            "    movups xmmword ptr [rdi], xmm0\n",
            "    movups xmmword ptr [rdi + rdx - 16], xmm1\n",
            "    ret\n",
            ".L",
            $p,
            "cp_le16:\n",
            "    cmp edx, 8\n",
            "    jb .L",
            $p,
            "cp_lt8\n",
            "    mov rcx, qword ptr [rsi]\n",
            "    mov r8, qword ptr [rsi + rdx - 8]\n",
            "    mov qword ptr [rdi], rcx\n",
            "    mov qword ptr [rdi + rdx - 8], r8\n",
            "    ret\n",
            ".L",
            $p,
            "cp_lt8:\n",
            "    cmp edx, 4\n",
            "    jb .L",
            $p,
            "cp_lt4\n",
            "    mov ecx, dword ptr [rsi]\n",
            "    mov r8d, dword ptr [rsi + rdx - 4]\n",
            "    mov dword ptr [rdi], ecx\n",
            "    mov dword ptr [rdi + rdx - 4], r8d\n",
            "    ret\n",
            ".L",
            $p,
            "cp_lt4:\n",
            "    test edx, edx\n",
            "    jz .L",
            $p,
            "cp_ret\n",
            // 1..=3: the first, the middle and the last byte.
            "    mov r9, rdx\n",
            "    shr r9, 1\n",
            "    movzx ecx, byte ptr [rsi]\n",
            "    movzx r8d, byte ptr [rsi + rdx - 1]\n",
            "    movzx r10d, byte ptr [rsi + r9]\n",
            "    mov byte ptr [rdi], cl\n",
            "    mov byte ptr [rdi + rdx - 1], r8b\n",
            "    mov byte ptr [rdi + r9], r10b\n",
            ".L",
            $p,
            "cp_ret:\n",
            "    ret\n",
            ".L",
            $p,
            "cp_gt32:\n",
            "    cmp rdx, 2048\n",
            "    jae .L",
            $p,
            "cp_rep\n",
            // 33..2048: 32 bytes per step from the front; the last 32 bytes, loaded first,
            // are stored last. Forward is also right for memmove when dst < src.
            "    movups xmm2, xmmword ptr [rsi + rdx - 32]\n",
            "    movups xmm3, xmmword ptr [rsi + rdx - 16]\n",
            "    lea r8, [rdi + rdx - 32]\n",
            "    mov rcx, rdi\n",
            ".L",
            $p,
            "cp_loop:\n",
            "    movups xmm0, xmmword ptr [rsi]\n",
            "    movups xmm1, xmmword ptr [rsi + 16]\n",
            "    movups xmmword ptr [rcx], xmm0\n",
            "    movups xmmword ptr [rcx + 16], xmm1\n",
            "    add rsi, 32\n",
            "    add rcx, 32\n",
            "    cmp rcx, r8\n",
            "    jb .L",
            $p,
            "cp_loop\n",
            "    movups xmmword ptr [r8], xmm2\n",
            "    movups xmmword ptr [r8 + 16], xmm3\n",
            "    ret\n",
            // Long copies: the CPU's string move (a byte-wise forward copy, as far as
            // overlap is concerned).
            ".L",
            $p,
            "cp_rep:\n",
            "    mov rcx, rdx\n",
            "    rep movsb\n",
            "    ret\n",
            ".size ",
            $p,
            "memcpy, . - ",
            $p,
            "memcpy\n",
            ".popsection\n",
            // ---- memmove(dst: rdi, src: rsi, n: rdx) -> dst
            ".pushsection .text.",
            $p,
            "memmove,\"ax\",@progbits\n",
            ".globl ",
            $p,
            "memmove\n",
            ".type ",
            $p,
            "memmove,@function\n",
            ".p2align 4\n",
            $p,
            "memmove:\n",
            // dst - src >= n (unsigned): dst is below src or past the source, and a forward
            // copy never overwrites a byte before reading it.
            "    mov rcx, rdi\n",
            "    sub rcx, rsi\n",
            "    cmp rcx, rdx\n",
            "    jae .L",
            $p,
            "cp\n",
            "    cmp rdx, 32\n",
            "    jbe .L",
            $p,
            "cp\n",
            // dst overlaps the source from above: 32 bytes per step from the back; the first
            // 32 bytes, loaded first, are stored last.
            "    mov rax, rdi\n",
            "    movups xmm2, xmmword ptr [rsi]\n",
            "    movups xmm3, xmmword ptr [rsi + 16]\n",
            "    lea rsi, [rsi + rdx - 32]\n",
            "    lea rcx, [rdi + rdx - 32]\n",
            ".L",
            $p,
            "mv_loop:\n",
            "    movups xmm0, xmmword ptr [rsi]\n",
            "    movups xmm1, xmmword ptr [rsi + 16]\n",
            "    movups xmmword ptr [rcx], xmm0\n",
            "    movups xmmword ptr [rcx + 16], xmm1\n",
            "    sub rsi, 32\n",
            "    sub rcx, 32\n",
            "    cmp rcx, rdi\n",
            "    ja .L",
            $p,
            "mv_loop\n",
            "    movups xmmword ptr [rdi], xmm2\n",
            "    movups xmmword ptr [rdi + 16], xmm3\n",
            "    ret\n",
            ".size ",
            $p,
            "memmove, . - ",
            $p,
            "memmove\n",
            ".popsection\n",
            // ---- memcmp(a: rdi, b: rsi, n: rdx) -> <0, 0, >0; bcmp is the same function.
            // The section is named after bcmp: profiles name the shared address so, and
            // bench/order.sh lists sections by the names profiles give.
            ".pushsection .text.",
            $p,
            "bcmp,\"ax\",@progbits\n",
            ".globl ",
            $p,
            "memcmp\n",
            ".type ",
            $p,
            "memcmp,@function\n",
            ".globl ",
            $p,
            "bcmp\n",
            ".type ",
            $p,
            "bcmp,@function\n",
            ".p2align 4\n",
            $p,
            "memcmp:\n",
            $p,
            "bcmp:\n",
            "    cmp rdx, 8\n",
            "    jb .L",
            $p,
            "mc_bytes\n",
            ".L",
            $p,
            "mc_loop:\n",
            "    mov rcx, qword ptr [rdi]\n",
            "    mov r8, qword ptr [rsi]\n",
            "    cmp rcx, r8\n",
            "    jne .L",
            $p,
            "mc_diff\n",
            "    add rdi, 8\n",
            "    add rsi, 8\n",
            "    sub rdx, 8\n",
            "    cmp rdx, 8\n",
            "    jae .L",
            $p,
            "mc_loop\n",
            "    test rdx, rdx\n",
            "    jz .L",
            $p,
            "mc_equal\n",
            // The last 8 bytes, overlapping bytes already found equal.
            "    mov rcx, qword ptr [rdi + rdx - 8]\n",
            "    mov r8, qword ptr [rsi + rdx - 8]\n",
            "    cmp rcx, r8\n",
            "    jne .L",
            $p,
            "mc_diff\n",
            ".L",
            $p,
            "mc_equal:\n",
            "    xor eax, eax\n",
            "    ret\n",
            // Big-endian order is byte order: the first differing byte decides.
            ".L",
            $p,
            "mc_diff:\n",
            "    bswap rcx\n",
            "    bswap r8\n",
            "    cmp rcx, r8\n",
            "    sbb eax, eax\n",
            "    or eax, 1\n",
            "    ret\n",
            ".L",
            $p,
            "mc_bytes:\n",
            "    xor eax, eax\n",
            "    test rdx, rdx\n",
            "    jz .L",
            $p,
            "mc_done\n",
            ".L",
            $p,
            "mc_bloop:\n",
            "    movzx eax, byte ptr [rdi]\n",
            "    movzx ecx, byte ptr [rsi]\n",
            "    sub eax, ecx\n",
            "    jnz .L",
            $p,
            "mc_done\n",
            "    inc rdi\n",
            "    inc rsi\n",
            "    dec rdx\n",
            "    jnz .L",
            $p,
            "mc_bloop\n",
            ".L",
            $p,
            "mc_done:\n",
            "    ret\n",
            ".size ",
            $p,
            "memcmp, . - ",
            $p,
            "memcmp\n",
            ".size ",
            $p,
            "bcmp, . - ",
            $p,
            "bcmp\n",
            ".popsection\n",
        ));
    };
}

#[cfg(target_env = "musl")]
mem_functions!("");

#[cfg(test)]
mem_functions!("strata_");

#[cfg(test)]
mod tests {
    use std::ffi::c_void;

    unsafe extern "C" {
        fn strata_memcpy(dst: *mut c_void, src: *const c_void, n: usize) -> *mut c_void;
        fn strata_memmove(dst: *mut c_void, src: *const c_void, n: usize) -> *mut c_void;
        fn strata_memcmp(a: *const c_void, b: *const c_void, n: usize) -> i32;
        fn strata_bcmp(a: *const c_void, b: *const c_void, n: usize) -> i32;
    }

    /// Lengths around every threshold in the code, and a few long ones.
    fn lengths() -> impl Iterator<Item = usize> {
        (0..=130).chain([255, 256, 257, 1000, 2047, 2048, 2049, 4096, 5000])
    }

    fn pattern(n: usize, seed: u8) -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    #[test]
    fn memcpy_copies_exactly_n_bytes_at_any_alignment() {
        for n in lengths() {
            for (s_off, d_off) in [(0, 0), (1, 0), (0, 3), (7, 5), (9, 15)] {
                let src = pattern(n + 16, 1);
                let mut dst = vec![0xEEu8; n + 32];
                let d = dst[d_off..].as_mut_ptr().cast();
                let r = unsafe { strata_memcpy(d, src[s_off..].as_ptr().cast(), n) };
                assert_eq!(r, d, "n={n}: returns dst");
                assert_eq!(&dst[d_off..d_off + n], &src[s_off..s_off + n], "n={n}");
                assert!(dst[..d_off].iter().all(|&b| b == 0xEE), "n={n}: before");
                assert!(dst[d_off + n..].iter().all(|&b| b == 0xEE), "n={n}: after");
            }
        }
    }

    #[test]
    fn memmove_handles_every_overlap() {
        for n in lengths() {
            for shift in [1usize, 2, 7, 8, 15, 16, 17, 31, 32, 33, 64, 100] {
                for up in [true, false] {
                    let mut buf = pattern(n + shift + 8, 3);
                    let mut want = buf.clone();
                    let (from, to) = if up { (0, shift) } else { (shift, 0) };
                    want.copy_within(from..from + n, to);
                    let base = buf.as_mut_ptr();
                    let r =
                        unsafe { strata_memmove(base.add(to).cast(), base.add(from).cast(), n) };
                    assert_eq!(r, unsafe { base.add(to).cast() });
                    assert_eq!(buf, want, "n={n} shift={shift} up={up}");
                }
            }
            // dst == src
            let mut buf = pattern(n, 5);
            let want = buf.clone();
            let p = buf.as_mut_ptr();
            unsafe { strata_memmove(p.cast(), p.cast(), n) };
            assert_eq!(buf, want);
        }
    }

    #[test]
    fn memcmp_orders_by_the_first_differing_byte() {
        for n in lengths() {
            let a = pattern(n, 7);
            for f in [strata_memcmp, strata_bcmp] {
                assert_eq!(
                    unsafe { f(a.as_ptr().cast(), a.clone().as_ptr().cast(), n) },
                    0
                );
            }
            // A difference at each position, both ways, with unsigned byte order.
            let positions: Vec<usize> = if n <= 40 {
                (0..n).collect()
            } else {
                vec![0, 1, 7, 8, 9, n / 2, n - 9, n - 8, n - 1]
            };
            for i in positions {
                for (x, y) in [(0x00u8, 0x01u8), (0x7F, 0x80), (0x01, 0xFF)] {
                    let (mut lo, mut hi) = (a.clone(), a.clone());
                    lo[i] = x;
                    hi[i] = y;
                    // Later bytes pull the other way: only the first difference may count.
                    if i + 1 < n {
                        lo[i + 1] = 0xFF;
                        hi[i + 1] = 0x00;
                    }
                    let c = unsafe { strata_memcmp(lo.as_ptr().cast(), hi.as_ptr().cast(), n) };
                    assert!(c < 0, "n={n} i={i} {x:#x}<{y:#x}: {c}");
                    let c = unsafe { strata_memcmp(hi.as_ptr().cast(), lo.as_ptr().cast(), n) };
                    assert!(c > 0, "n={n} i={i} {y:#x}>{x:#x}: {c}");
                    let c = unsafe { strata_bcmp(hi.as_ptr().cast(), lo.as_ptr().cast(), n) };
                    assert_ne!(c, 0, "n={n} i={i}: bcmp");
                }
            }
        }
    }

    #[test]
    fn agrees_with_slices_on_random_input() {
        use proptest::prelude::*;
        proptest!(|(a in proptest::collection::vec(0u8..4, 0..80),
                    b in proptest::collection::vec(0u8..4, 0..80))| {
            let n = a.len().min(b.len());
            let c = unsafe { strata_memcmp(a.as_ptr().cast(), b.as_ptr().cast(), n) };
            prop_assert_eq!(c.signum(), a[..n].cmp(&b[..n]) as i32);
            let mut d = vec![0u8; n];
            unsafe { strata_memcpy(d.as_mut_ptr().cast(), a.as_ptr().cast(), n) };
            prop_assert_eq!(&d[..], &a[..n]);
        });
    }
}
