;; Float32 SIMD kernels of the latent-factor models (WebAssembly 128-bit SIMD, 4 lanes).
;; Source of src/util/wasm/kernels.ts (bytes embedded; `npx tsx scripts/build-wasm.ts` rebuilds).
;; Every vector length n is a multiple of 4 (callers pad factor rows); pointers are byte
;; offsets into the exported memory, 16-byte aligned.
(module
  (memory (export "memory") 1)

  ;; sum of a[0..n) * b[0..n): four independent accumulators over 16 floats per step (one
  ;; accumulator would serialize on the add latency), then 4 at a time for the rest.
  (func $dot (param $a i32) (param $b i32) (param $n i32) (result f32)
    (local $acc v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128) (local $end i32) (local $end16 i32)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end16 (i32.add (local.get $a) (i32.shl (i32.and (local.get $n) (i32.const -16)) (i32.const 2))))
    (block $done16
      (loop $next16
        (br_if $done16 (i32.ge_u (local.get $a) (local.get $end16)))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b)))))
        (local.set $acc1 (f32x4.add (local.get $acc1) (f32x4.mul (v128.load offset=16 (local.get $a)) (v128.load offset=16 (local.get $b)))))
        (local.set $acc2 (f32x4.add (local.get $acc2) (f32x4.mul (v128.load offset=32 (local.get $a)) (v128.load offset=32 (local.get $b)))))
        (local.set $acc3 (f32x4.add (local.get $acc3) (f32x4.mul (v128.load offset=48 (local.get $a)) (v128.load offset=48 (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (i32.const 64)))
        (local.set $b (i32.add (local.get $b) (i32.const 64)))
        (br $next16)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br $next)))
    (local.set $acc (f32x4.add (f32x4.add (local.get $acc) (local.get $acc1)) (f32x4.add (local.get $acc2) (local.get $acc3))))
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
      (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))

  ;; y[0..n) += s * x[0..n)
  (func $axpy (param $s f32) (param $x i32) (param $y i32) (param $n i32)
    (local $sv v128) (local $end i32)
    (local.set $sv (f32x4.splat (local.get $s)))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (v128.store (local.get $y) (f32x4.add (v128.load (local.get $y)) (f32x4.mul (local.get $sv) (v128.load (local.get $x)))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (br $next))))

  ;; p[0..n) = r[0..n) + beta * p[0..n)
  (func $xpby (param $r i32) (param $beta f32) (param $p i32) (param $n i32)
    (local $bv v128) (local $end i32)
    (local.set $bv (f32x4.splat (local.get $beta)))
    (local.set $end (i32.add (local.get $r) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $r) (local.get $end)))
        (v128.store (local.get $p) (f32x4.add (v128.load (local.get $r)) (f32x4.mul (local.get $bv) (v128.load (local.get $p)))))
        (local.set $r (i32.add (local.get $r) (i32.const 16)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $next))))

  ;; The four dots y_k . v (k = 0..3) as one vector, lane k: one accumulator per row, so v is
  ;; loaded once for four rows and the four sums are reduced together (a transpose of adds)
  ;; instead of one horizontal reduction per row.
  (func $dot4 (param $p0 i32) (param $p1 i32) (param $p2 i32) (param $p3 i32) (param $vp i32) (param $n i32) (result v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $vv v128) (local $end i32) (local $end16 i32) (local $t0 v128) (local $t1 v128)
    (local.set $end (i32.add (local.get $vp) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end16 (i32.add (local.get $vp) (i32.shl (i32.and (local.get $n) (i32.const -16)) (i32.const 2))))
    ;; 16 floats per step (constant offsets, one pointer update per step), then 4 at a time
    (block $done16
      (loop $next16
        (br_if $done16 (i32.ge_u (local.get $vp) (local.get $end16)))
        (local.set $vv (v128.load (local.get $vp)))
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load (local.get $p0)) (local.get $vv))))
        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load (local.get $p1)) (local.get $vv))))
        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load (local.get $p2)) (local.get $vv))))
        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (v128.load (local.get $p3)) (local.get $vv))))
        (local.set $vv (v128.load offset=16 (local.get $vp)))
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load offset=16 (local.get $p0)) (local.get $vv))))
        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load offset=16 (local.get $p1)) (local.get $vv))))
        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load offset=16 (local.get $p2)) (local.get $vv))))
        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (v128.load offset=16 (local.get $p3)) (local.get $vv))))
        (local.set $vv (v128.load offset=32 (local.get $vp)))
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load offset=32 (local.get $p0)) (local.get $vv))))
        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load offset=32 (local.get $p1)) (local.get $vv))))
        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load offset=32 (local.get $p2)) (local.get $vv))))
        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (v128.load offset=32 (local.get $p3)) (local.get $vv))))
        (local.set $vv (v128.load offset=48 (local.get $vp)))
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load offset=48 (local.get $p0)) (local.get $vv))))
        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load offset=48 (local.get $p1)) (local.get $vv))))
        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load offset=48 (local.get $p2)) (local.get $vv))))
        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (v128.load offset=48 (local.get $p3)) (local.get $vv))))
        (local.set $vp (i32.add (local.get $vp) (i32.const 64)))
        (local.set $p0 (i32.add (local.get $p0) (i32.const 64)))
        (local.set $p1 (i32.add (local.get $p1) (i32.const 64)))
        (local.set $p2 (i32.add (local.get $p2) (i32.const 64)))
        (local.set $p3 (i32.add (local.get $p3) (i32.const 64)))
        (br $next16)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $vp) (local.get $end)))
        (local.set $vv (v128.load (local.get $vp)))
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load (local.get $p0)) (local.get $vv))))
        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load (local.get $p1)) (local.get $vv))))
        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load (local.get $p2)) (local.get $vv))))
        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (v128.load (local.get $p3)) (local.get $vv))))
        (local.set $vp (i32.add (local.get $vp) (i32.const 16)))
        (local.set $p0 (i32.add (local.get $p0) (i32.const 16)))
        (local.set $p1 (i32.add (local.get $p1) (i32.const 16)))
        (local.set $p2 (i32.add (local.get $p2) (i32.const 16)))
        (local.set $p3 (i32.add (local.get $p3) (i32.const 16)))
        (br $next)))
    ;; t0 = (a0.0+a0.2, a1.0+a1.2, a0.1+a0.3, a1.1+a1.3), t1 likewise for a2, a3
    (local.set $t0 (f32x4.add
      (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a0) (local.get $a1))
      (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a0) (local.get $a1))))
    (local.set $t1 (f32x4.add
      (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a2) (local.get $a3))
      (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a2) (local.get $a3))))
    (f32x4.add
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1))
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1))))

  ;; y[0..n) += t.0 x0 + t.1 x1 + t.2 x2 + t.3 x3: y is loaded and stored once for four rows.
  (func $axpy4 (param $t v128) (param $x0 i32) (param $x1 i32) (param $x2 i32) (param $x3 i32) (param $yp i32) (param $n i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $end i32) (local $end16 i32)
    (local.set $s0 (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $t) (local.get $t)))
    (local.set $s1 (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $t) (local.get $t)))
    (local.set $s2 (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $t) (local.get $t)))
    (local.set $s3 (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $t) (local.get $t)))
    (local.set $end (i32.add (local.get $yp) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end16 (i32.add (local.get $yp) (i32.shl (i32.and (local.get $n) (i32.const -16)) (i32.const 2))))
    (block $done16
      (loop $next16
        (br_if $done16 (i32.ge_u (local.get $yp) (local.get $end16)))
        (v128.store (local.get $yp)
          (f32x4.add
            (f32x4.add (v128.load (local.get $yp)) (f32x4.add
              (f32x4.mul (local.get $s0) (v128.load (local.get $x0)))
              (f32x4.mul (local.get $s1) (v128.load (local.get $x1)))))
            (f32x4.add
              (f32x4.mul (local.get $s2) (v128.load (local.get $x2)))
              (f32x4.mul (local.get $s3) (v128.load (local.get $x3))))))
        (v128.store offset=16 (local.get $yp)
          (f32x4.add
            (f32x4.add (v128.load offset=16 (local.get $yp)) (f32x4.add
              (f32x4.mul (local.get $s0) (v128.load offset=16 (local.get $x0)))
              (f32x4.mul (local.get $s1) (v128.load offset=16 (local.get $x1)))))
            (f32x4.add
              (f32x4.mul (local.get $s2) (v128.load offset=16 (local.get $x2)))
              (f32x4.mul (local.get $s3) (v128.load offset=16 (local.get $x3))))))
        (v128.store offset=32 (local.get $yp)
          (f32x4.add
            (f32x4.add (v128.load offset=32 (local.get $yp)) (f32x4.add
              (f32x4.mul (local.get $s0) (v128.load offset=32 (local.get $x0)))
              (f32x4.mul (local.get $s1) (v128.load offset=32 (local.get $x1)))))
            (f32x4.add
              (f32x4.mul (local.get $s2) (v128.load offset=32 (local.get $x2)))
              (f32x4.mul (local.get $s3) (v128.load offset=32 (local.get $x3))))))
        (v128.store offset=48 (local.get $yp)
          (f32x4.add
            (f32x4.add (v128.load offset=48 (local.get $yp)) (f32x4.add
              (f32x4.mul (local.get $s0) (v128.load offset=48 (local.get $x0)))
              (f32x4.mul (local.get $s1) (v128.load offset=48 (local.get $x1)))))
            (f32x4.add
              (f32x4.mul (local.get $s2) (v128.load offset=48 (local.get $x2)))
              (f32x4.mul (local.get $s3) (v128.load offset=48 (local.get $x3))))))
        (local.set $yp (i32.add (local.get $yp) (i32.const 64)))
        (local.set $x0 (i32.add (local.get $x0) (i32.const 64)))
        (local.set $x1 (i32.add (local.get $x1) (i32.const 64)))
        (local.set $x2 (i32.add (local.get $x2) (i32.const 64)))
        (local.set $x3 (i32.add (local.get $x3) (i32.const 64)))
        (br $next16)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $yp) (local.get $end)))
        (v128.store (local.get $yp)
          (f32x4.add
            (f32x4.add (v128.load (local.get $yp)) (f32x4.add
              (f32x4.mul (local.get $s0) (v128.load (local.get $x0)))
              (f32x4.mul (local.get $s1) (v128.load (local.get $x1)))))
            (f32x4.add
              (f32x4.mul (local.get $s2) (v128.load (local.get $x2)))
              (f32x4.mul (local.get $s3) (v128.load (local.get $x3))))))
        (local.set $yp (i32.add (local.get $yp) (i32.const 16)))
        (local.set $x0 (i32.add (local.get $x0) (i32.const 16)))
        (local.set $x1 (i32.add (local.get $x1) (i32.const 16)))
        (local.set $x2 (i32.add (local.get $x2) (i32.const 16)))
        (local.set $x3 (i32.add (local.get $x3) (i32.const 16)))
        (br $next))))

  ;; out[0..n) = scale * G v for the symmetric n x n G, four rows of G per dot4
  (func $symv (param $g i32) (param $v i32) (param $out i32) (param $n i32) (param $scale f32)
    (local $i i32) (local $row i32) (local $sv v128)
    (local.set $row (i32.shl (local.get $n) (i32.const 2)))
    (local.set $sv (f32x4.splat (local.get $scale)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (v128.store (local.get $out) (f32x4.mul (local.get $sv)
          (call $dot4 (local.get $g) (i32.add (local.get $g) (local.get $row))
            (i32.add (local.get $g) (i32.shl (local.get $row) (i32.const 1))) (i32.add (local.get $g) (i32.mul (local.get $row) (i32.const 3)))
            (local.get $v) (local.get $n))))
        (local.set $g (i32.add (local.get $g) (i32.shl (local.get $row) (i32.const 2))))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next))))

  ;; G (n x n) += sum over rows r in [r0, r1) of y_r y_r^T, Y rows of n floats: four rows at a
  ;; time (G row a += y0[a] y0 + .. + y3[a] y3: one load and store of G per four rows), the
  ;; rest one by one.
  (func (export "gram") (param $y i32) (param $r0 i32) (param $r1 i32) (param $n i32) (param $g i32)
    (local $r i32) (local $yr i32) (local $a i32) (local $ga i32) (local $va f32) (local $row i32) (local $ya i32)
    (local.set $row (i32.shl (local.get $n) (i32.const 2)))
    (local.set $r (local.get $r0))
    (block $done4
      (loop $rows4
        (br_if $done4 (i32.gt_u (i32.add (local.get $r) (i32.const 4)) (local.get $r1)))
        (local.set $yr (i32.add (local.get $y) (i32.mul (local.get $r) (local.get $row))))
        (local.set $ya (local.get $yr))
        (local.set $ga (local.get $g))
        (block $adone4
          (loop $cols4
            (br_if $adone4 (i32.ge_u (local.get $ga) (i32.add (local.get $g) (i32.mul (local.get $n) (local.get $row)))))
            (call $axpy4
              (f32x4.replace_lane 3 (f32x4.replace_lane 2 (f32x4.replace_lane 1
                (f32x4.splat (f32.load (local.get $ya)))
                (f32.load (i32.add (local.get $ya) (local.get $row))))
                (f32.load (i32.add (local.get $ya) (i32.shl (local.get $row) (i32.const 1)))))
                (f32.load (i32.add (local.get $ya) (i32.mul (local.get $row) (i32.const 3)))))
              (local.get $yr) (i32.add (local.get $yr) (local.get $row))
              (i32.add (local.get $yr) (i32.shl (local.get $row) (i32.const 1))) (i32.add (local.get $yr) (i32.mul (local.get $row) (i32.const 3)))
              (local.get $ga) (local.get $n))
            (local.set $ga (i32.add (local.get $ga) (local.get $row)))
            (local.set $ya (i32.add (local.get $ya) (i32.const 4)))
            (br $cols4)))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $rows4)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $r1)))
        (local.set $yr (i32.add (local.get $y) (i32.mul (local.get $r) (local.get $row))))
        (local.set $a (i32.const 0))
        (local.set $ga (local.get $g))
        (block $adone
          (loop $cols
            (br_if $adone (i32.ge_u (local.get $a) (local.get $n)))
            (local.set $va (f32.load (i32.add (local.get $yr) (i32.shl (local.get $a) (i32.const 2)))))
            (if (f32.ne (local.get $va) (f32.const 0))
              (then (call $axpy (local.get $va) (local.get $yr) (local.get $ga) (local.get $n))))
            (local.set $ga (i32.add (local.get $ga) (local.get $row)))
            (local.set $a (i32.add (local.get $a) (i32.const 1)))
            (br $cols)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; out[0..n) += sum over entries e in [e, end) of (a + c_e (b + s (y_e . v))) y_e, y_e the
  ;; row indices[e] of Y: four entries at a time (dot4, axpy4), the rest one by one.
  (func $entries
      (param $yp i32) (param $indices i32) (param $conf i32) (param $e i32) (param $end i32) (param $v i32) (param $out i32) (param $n i32)
      (param $a f32) (param $b f32) (param $s f32)
    (local $row i32) (local $y0 i32) (local $y1 i32) (local $y2 i32) (local $y3 i32) (local $ip i32) (local $c4 v128) (local $c f32)
    (local.set $row (i32.shl (local.get $n) (i32.const 2)))
    (block $done4
      (loop $next4
        (br_if $done4 (i32.gt_u (i32.add (local.get $e) (i32.const 4)) (local.get $end)))
        (local.set $ip (i32.add (local.get $indices) (i32.shl (local.get $e) (i32.const 2))))
        (local.set $y0 (i32.add (local.get $yp) (i32.mul (i32.load (local.get $ip)) (local.get $row))))
        (local.set $y1 (i32.add (local.get $yp) (i32.mul (i32.load offset=4 (local.get $ip)) (local.get $row))))
        (local.set $y2 (i32.add (local.get $yp) (i32.mul (i32.load offset=8 (local.get $ip)) (local.get $row))))
        (local.set $y3 (i32.add (local.get $yp) (i32.mul (i32.load offset=12 (local.get $ip)) (local.get $row))))
        (local.set $c4 (v128.load (i32.add (local.get $conf) (i32.shl (local.get $e) (i32.const 2)))))
        (call $axpy4
          (f32x4.add (f32x4.splat (local.get $a)) (f32x4.mul (local.get $c4) (f32x4.add (f32x4.splat (local.get $b))
            (f32x4.mul (f32x4.splat (local.get $s)) (call $dot4 (local.get $y0) (local.get $y1) (local.get $y2) (local.get $y3) (local.get $v) (local.get $n))))))
          (local.get $y0) (local.get $y1) (local.get $y2) (local.get $y3) (local.get $out) (local.get $n))
        (local.set $e (i32.add (local.get $e) (i32.const 4)))
        (br $next4)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $e) (local.get $end)))
        (local.set $y0 (i32.add (local.get $yp) (i32.mul (i32.load (i32.add (local.get $indices) (i32.shl (local.get $e) (i32.const 2)))) (local.get $row))))
        (local.set $c (f32.load (i32.add (local.get $conf) (i32.shl (local.get $e) (i32.const 2)))))
        (call $axpy
          (f32.add (local.get $a) (f32.mul (local.get $c) (f32.add (local.get $b) (f32.mul (local.get $s) (call $dot (local.get $y0) (local.get $v) (local.get $n))))))
          (local.get $y0) (local.get $out) (local.get $n))
        (local.set $e (i32.add (local.get $e) (i32.const 1)))
        (br $next))))

  ;; One conjugate-gradient half-step for rows [u0, u1) of X (see src/strategies/als/solve.ts):
  ;; x_u <- `steps` CG steps on (G + sum_e c_e y_e y_e^T) x = sum_e (1 + c_e) y_e from its value.
  ;; scratch: 3 n floats (r, p, ap).
  (func (export "cg_rows")
      (param $yp i32) (param $xp i32) (param $g i32) (param $indptr i32) (param $indices i32) (param $conf i32)
      (param $u0 i32) (param $u1 i32) (param $n i32) (param $steps i32) (param $scratch i32)
    (local $u i32) (local $e i32) (local $end i32) (local $x i32)
    (local $r i32) (local $p i32) (local $ap i32) (local $row i32) (local $it i32)
    (local $rsold f32) (local $rsnew f32) (local $alpha f32)
    (local.set $row (i32.shl (local.get $n) (i32.const 2)))
    (local.set $r (local.get $scratch))
    (local.set $p (i32.add (local.get $scratch) (local.get $row)))
    (local.set $ap (i32.add (local.get $p) (local.get $row)))
    (local.set $u (local.get $u0))
    (block $rowsdone
      (loop $rows
        (br_if $rowsdone (i32.ge_u (local.get $u) (local.get $u1)))
        (local.set $x (i32.add (local.get $xp) (i32.mul (local.get $u) (local.get $row))))
        (local.set $e (i32.load (i32.add (local.get $indptr) (i32.shl (local.get $u) (i32.const 2)))))
        (local.set $end (i32.load (i32.add (local.get $indptr) (i32.shl (i32.add (local.get $u) (i32.const 1)) (i32.const 2)))))
        (block $rowdone
          (if (i32.eq (local.get $e) (local.get $end))
            (then
              (memory.fill (local.get $x) (i32.const 0) (local.get $row))
              (br $rowdone)))
          ;; r = -G x + sum (1 + c (1 - y . x)) y
          (call $symv (local.get $g) (local.get $x) (local.get $r) (local.get $n) (f32.const -1))
          (call $entries (local.get $yp) (local.get $indices) (local.get $conf) (local.get $e) (local.get $end) (local.get $x) (local.get $r) (local.get $n)
            (f32.const 1) (f32.const 1) (f32.const -1))
          (memory.copy (local.get $p) (local.get $r) (local.get $row))
          (local.set $rsold (call $dot (local.get $r) (local.get $r) (local.get $n)))
          (br_if $rowdone (f32.lt (local.get $rsold) (f32.const 1e-20)))
          (local.set $it (i32.const 0))
          (block $cgdone
            (loop $cg
              (br_if $cgdone (i32.ge_u (local.get $it) (local.get $steps)))
              ;; ap = G p + sum c (y . p) y
              (call $symv (local.get $g) (local.get $p) (local.get $ap) (local.get $n) (f32.const 1))
              (call $entries (local.get $yp) (local.get $indices) (local.get $conf) (local.get $e) (local.get $end) (local.get $p) (local.get $ap) (local.get $n)
                (f32.const 0) (f32.const 0) (f32.const 1))
              (local.set $alpha (f32.div (local.get $rsold) (call $dot (local.get $p) (local.get $ap) (local.get $n))))
              (call $axpy (local.get $alpha) (local.get $p) (local.get $x) (local.get $n))
              (call $axpy (f32.neg (local.get $alpha)) (local.get $ap) (local.get $r) (local.get $n))
              (local.set $rsnew (call $dot (local.get $r) (local.get $r) (local.get $n)))
              (br_if $cgdone (f32.lt (local.get $rsnew) (f32.const 1e-20)))
              (call $xpby (local.get $r) (f32.div (local.get $rsnew) (local.get $rsold)) (local.get $p) (local.get $n))
              (local.set $rsold (local.get $rsnew))
              (local.set $it (i32.add (local.get $it) (i32.const 1)))
              (br $cg))))
        (local.set $u (i32.add (local.get $u) (i32.const 1)))
        (br $rows))))

  ;; out[r] = q . rows[r] for r in [0, count), rows of n floats (dense scoring): four rows per
  ;; dot4, the rest one by one.
  (func (export "score_rows") (param $q i32) (param $rows i32) (param $count i32) (param $n i32) (param $out i32)
    (local $i i32) (local $row i32)
    (local.set $row (i32.shl (local.get $n) (i32.const 2)))
    (block $done4
      (loop $next4
        (br_if $done4 (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $count)))
        (v128.store (local.get $out)
          (call $dot4 (local.get $rows) (i32.add (local.get $rows) (local.get $row))
            (i32.add (local.get $rows) (i32.shl (local.get $row) (i32.const 1))) (i32.add (local.get $rows) (i32.mul (local.get $row) (i32.const 3)))
            (local.get $q) (local.get $n)))
        (local.set $rows (i32.add (local.get $rows) (i32.shl (local.get $row) (i32.const 2))))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next4)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (f32.store (local.get $out) (call $dot (local.get $q) (local.get $rows) (local.get $n)))
        (local.set $rows (i32.add (local.get $rows) (local.get $row)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; Four queries against rows [0, count) at once, each row loaded once for all four (what a
  ;; batch of users needs: the catalog streams from memory once per four users, not per user).
  ;; qs holds the 4 queries, n floats apart; scores[4r + j] = row_r . q_j, summed in exactly
  ;; score_rows' order (lane-wise along the row, then (l0 + l2) + (l1 + l3); the last count % 4
  ;; rows by $dot), so a batch ranks exactly as single queries do. Then for each query j the
  ;; rows whose score is not below floors[j] are listed, ascending, at hits + 4 * cap * j
  ;; (i32 row numbers) and their number stored at counts[j]: most rows of a scan cannot enter
  ;; a top-k, and this spares the caller a test per row and query.
  (func (export "score_above_4q") (param $qs i32) (param $rows i32) (param $count i32) (param $n i32)
      (param $floors i32) (param $scores i32) (param $hits i32) (param $cap i32) (param $counts i32)
    (local $bytes i32) (local $full i32) (local $r i32) (local $d i32) (local $row i32) (local $out i32)
    (local $q1 i32) (local $q2 i32) (local $q3 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $rv v128) (local $t0 v128) (local $t1 v128)
    (local $floor v128) (local $keep v128) (local $c0 i32) (local $c1 i32) (local $c2 i32) (local $c3 i32) (local $stride i32)
    (local.set $bytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $q1 (i32.add (local.get $qs) (local.get $bytes)))
    (local.set $q2 (i32.add (local.get $q1) (local.get $bytes)))
    (local.set $q3 (i32.add (local.get $q2) (local.get $bytes)))
    (local.set $full (i32.and (local.get $count) (i32.const -4)))
    (local.set $row (local.get $rows))
    (local.set $out (local.get $scores))
    (block $rowsDone
      (loop $nextRow
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $full)))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0))
        (local.set $a3 (v128.const i32x4 0 0 0 0))
        (local.set $d (i32.const 0))
        (block $lanesDone
          (loop $nextLanes
            (br_if $lanesDone (i32.ge_u (local.get $d) (local.get $bytes)))
            (local.set $rv (v128.load (i32.add (local.get $row) (local.get $d))))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $rv) (v128.load (i32.add (local.get $qs) (local.get $d))))))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $rv) (v128.load (i32.add (local.get $q1) (local.get $d))))))
            (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $rv) (v128.load (i32.add (local.get $q2) (local.get $d))))))
            (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $rv) (v128.load (i32.add (local.get $q3) (local.get $d))))))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (br $nextLanes)))
        ;; the reduction of $dot4: lane j = (a_j.0 + a_j.2) + (a_j.1 + a_j.3)
        (local.set $t0 (f32x4.add
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a0) (local.get $a1))
          (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a0) (local.get $a1))))
        (local.set $t1 (f32x4.add
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a2) (local.get $a3))
          (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a2) (local.get $a3))))
        (v128.store (local.get $out) (f32x4.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1))))
        (local.set $row (i32.add (local.get $row) (local.get $bytes)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $nextRow)))
    (block $tailDone
      (loop $nextTail
        (br_if $tailDone (i32.ge_u (local.get $r) (local.get $count)))
        (f32.store (local.get $out) (call $dot (local.get $qs) (local.get $row) (local.get $n)))
        (f32.store offset=4 (local.get $out) (call $dot (local.get $q1) (local.get $row) (local.get $n)))
        (f32.store offset=8 (local.get $out) (call $dot (local.get $q2) (local.get $row) (local.get $n)))
        (f32.store offset=12 (local.get $out) (call $dot (local.get $q3) (local.get $row) (local.get $n)))
        (local.set $row (i32.add (local.get $row) (local.get $bytes)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $nextTail)))
    ;; hits: a row is kept for query j unless its score is below floors[j] (so a NaN is kept,
    ;; as the caller's own test would keep it); stored unconditionally, counted by the mask
    (local.set $floor (v128.load (local.get $floors)))
    (local.set $stride (i32.shl (local.get $cap) (i32.const 2)))
    (local.set $r (i32.const 0))
    (local.set $out (local.get $scores))
    (block $hitsDone
      (loop $nextHit
        (br_if $hitsDone (i32.ge_u (local.get $r) (local.get $count)))
        (local.set $keep (v128.not (f32x4.lt (v128.load (local.get $out)) (local.get $floor))))
        (i32.store (i32.add (local.get $hits) (i32.shl (local.get $c0) (i32.const 2))) (local.get $r))
        (local.set $c0 (i32.sub (local.get $c0) (i32x4.extract_lane 0 (local.get $keep))))
        (i32.store (i32.add (i32.add (local.get $hits) (local.get $stride)) (i32.shl (local.get $c1) (i32.const 2))) (local.get $r))
        (local.set $c1 (i32.sub (local.get $c1) (i32x4.extract_lane 1 (local.get $keep))))
        (i32.store (i32.add (i32.add (local.get $hits) (i32.shl (local.get $stride) (i32.const 1))) (i32.shl (local.get $c2) (i32.const 2))) (local.get $r))
        (local.set $c2 (i32.sub (local.get $c2) (i32x4.extract_lane 2 (local.get $keep))))
        (i32.store (i32.add (i32.add (local.get $hits) (i32.mul (local.get $stride) (i32.const 3))) (i32.shl (local.get $c3) (i32.const 2))) (local.get $r))
        (local.set $c3 (i32.sub (local.get $c3) (i32x4.extract_lane 3 (local.get $keep))))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $nextHit)))
    (i32.store (local.get $counts) (local.get $c0))
    (i32.store offset=4 (local.get $counts) (local.get $c1))
    (i32.store offset=8 (local.get $counts) (local.get $c2))
    (i32.store offset=12 (local.get $counts) (local.get $c3)))

  ;; a[j] -= scaled[0..w) . panel[j*nb .. j*nb+w) for j in [0, count), float64 (EASE's blocked
  ;; SPD inverse, src/util/spd.ts); w is even, rows of panel are nb doubles apart.
  (func (export "rank_update_f64") (param $a i32) (param $scaled i32) (param $panel i32) (param $nb i32) (param $w i32) (param $count i32)
    (local $j i32) (local $acc v128) (local $acc1 v128) (local $p i32) (local $s i32) (local $end i32) (local $end4 i32) (local $stride i32)
    (local.set $stride (i32.shl (local.get $nb) (i32.const 3)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $j) (local.get $count)))
        (local.set $acc (f64x2.splat (f64.const 0)))
        (local.set $acc1 (f64x2.splat (f64.const 0)))
        (local.set $p (local.get $panel))
        (local.set $s (local.get $scaled))
        (local.set $end (i32.add (local.get $scaled) (i32.shl (local.get $w) (i32.const 3))))
        (local.set $end4 (i32.add (local.get $scaled) (i32.shl (i32.and (local.get $w) (i32.const -4)) (i32.const 3))))
        (block $w4done
          (loop $lanes4
            (br_if $w4done (i32.ge_u (local.get $s) (local.get $end4)))
            (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (v128.load (local.get $s)) (v128.load (local.get $p)))))
            (local.set $acc1 (f64x2.add (local.get $acc1) (f64x2.mul (v128.load offset=16 (local.get $s)) (v128.load offset=16 (local.get $p)))))
            (local.set $s (i32.add (local.get $s) (i32.const 32)))
            (local.set $p (i32.add (local.get $p) (i32.const 32)))
            (br $lanes4)))
        (block $wdone
          (loop $lanes
            (br_if $wdone (i32.ge_u (local.get $s) (local.get $end)))
            (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (v128.load (local.get $s)) (v128.load (local.get $p)))))
            (local.set $s (i32.add (local.get $s) (i32.const 16)))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br $lanes)))
        (local.set $acc (f64x2.add (local.get $acc) (local.get $acc1)))
        (f64.store (local.get $a) (f64.sub (f64.load (local.get $a))
          (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc)))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $panel (i32.add (local.get $panel) (local.get $stride)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $next))))
)
