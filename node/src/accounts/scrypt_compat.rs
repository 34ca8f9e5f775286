//! scrypt (RFC 7914) for the parameter sets go-ethereum accepts but the `scrypt` crate refuses:
//! `n >= 2^(16·r)`, as in the Web3 Secret Storage test vector (n = 2^18, r = 1, p = 8). Every
//! other keystore goes through the `scrypt` crate.

use sha2::Sha256;

fn salsa20_8(b: &mut [u32; 16]) {
    let mut x = *b;
    let quarter = |x: &mut [u32; 16], a: usize, bb: usize, c: usize, d: usize| {
        x[bb] ^= x[a].wrapping_add(x[d]).rotate_left(7);
        x[c] ^= x[bb].wrapping_add(x[a]).rotate_left(9);
        x[d] ^= x[c].wrapping_add(x[bb]).rotate_left(13);
        x[a] ^= x[d].wrapping_add(x[c]).rotate_left(18);
    };
    for _ in 0..4 {
        quarter(&mut x, 0, 4, 8, 12);
        quarter(&mut x, 5, 9, 13, 1);
        quarter(&mut x, 10, 14, 2, 6);
        quarter(&mut x, 15, 3, 7, 11);
        quarter(&mut x, 0, 1, 2, 3);
        quarter(&mut x, 5, 6, 7, 4);
        quarter(&mut x, 10, 11, 8, 9);
        quarter(&mut x, 15, 12, 13, 14);
    }
    for (out, add) in b.iter_mut().zip(x) {
        *out = out.wrapping_add(add);
    }
}

/// BlockMix over `2r` 64-byte blocks (as u32 words).
fn block_mix(input: &[u32], output: &mut [u32], r: usize) {
    let mut x = [0u32; 16];
    x.copy_from_slice(&input[(2 * r - 1) * 16..]);
    for i in 0..2 * r {
        for (w, v) in x.iter_mut().zip(&input[i * 16..(i + 1) * 16]) {
            *w ^= v;
        }
        salsa20_8(&mut x);
        // Even blocks go to the first half, odd ones to the second.
        let at = (i / 2 + (i % 2) * r) * 16;
        output[at..at + 16].copy_from_slice(&x);
    }
}

fn ro_mix(block: &mut [u8], r: usize, n: usize) {
    let words = 32 * r;
    let mut x: Vec<u32> =
        block.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    let mut v = vec![0u32; n * words];
    let mut y = vec![0u32; words];
    for i in 0..n {
        v[i * words..(i + 1) * words].copy_from_slice(&x);
        block_mix(&x, &mut y, r);
        std::mem::swap(&mut x, &mut y);
    }
    for _ in 0..n {
        let j = (x[(2 * r - 1) * 16] as usize) % n;
        for (w, vj) in x.iter_mut().zip(&v[j * words..(j + 1) * words]) {
            *w ^= vj;
        }
        block_mix(&x, &mut y, r);
        std::mem::swap(&mut x, &mut y);
    }
    for (chunk, w) in block.chunks_exact_mut(4).zip(x) {
        chunk.copy_from_slice(&w.to_le_bytes());
    }
}

/// scrypt(password, salt, n, r, p) into `out`.
pub(super) fn scrypt(password: &[u8], salt: &[u8], n: usize, r: usize, p: usize, out: &mut [u8]) {
    let mut b = vec![0u8; p * 128 * r];
    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, 1, &mut b);
    for chunk in b.chunks_exact_mut(128 * r) {
        ro_mix(chunk, r, n);
    }
    pbkdf2::pbkdf2_hmac::<Sha256>(password, &b, 1, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7914_test_vectors() {
        let mut out = [0u8; 64];
        scrypt(b"", b"", 16, 1, 1, &mut out);
        assert_eq!(
            hex::encode(out),
            "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"
        );
        scrypt(b"password", b"NaCl", 1024, 8, 16, &mut out);
        assert_eq!(
            hex::encode(out),
            "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"
        );
    }
}
