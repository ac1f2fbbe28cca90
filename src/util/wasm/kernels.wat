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

  ;; out[i] = scale * (G row i) . v, G n x n row-major
  (func $symv (param $g i32) (param $v i32) (param $out i32) (param $n i32) (param $scale f32)
    (local $i i32) (local $row i32)
    (local.set $row (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (f32.store (local.get $out) (f32.mul (local.get $scale) (call $dot (local.get $g) (local.get $v) (local.get $n))))
        (local.set $g (i32.add (local.get $g) (local.get $row)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; G (n x n) += sum over rows r in [r0, r1) of y_r y_r^T, Y rows of n floats
  (func (export "gram") (param $y i32) (param $r0 i32) (param $r1 i32) (param $n i32) (param $g i32)
    (local $r i32) (local $yr i32) (local $a i32) (local $ga i32) (local $va f32) (local $row i32)
    (local.set $row (i32.shl (local.get $n) (i32.const 2)))
    (local.set $r (local.get $r0))
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

  ;; One conjugate-gradient half-step for rows [u0, u1) of X (see src/strategies/als/solve.ts):
  ;; x_u <- `steps` CG steps on (G + sum_e c_e y_e y_e^T) x = sum_e (1 + c_e) y_e from its value.
  ;; scratch: 3 n floats (r, p, ap).
  (func (export "cg_rows")
      (param $yp i32) (param $xp i32) (param $g i32) (param $indptr i32) (param $indices i32) (param $conf i32)
      (param $u0 i32) (param $u1 i32) (param $n i32) (param $steps i32) (param $scratch i32)
    (local $u i32) (local $e i32) (local $end i32) (local $x i32) (local $yi i32) (local $c f32) (local $t f32)
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
          ;; r = -G x + sum ((1 + c) - c (y . x)) y
          (call $symv (local.get $g) (local.get $x) (local.get $r) (local.get $n) (f32.const -1))
          (block $edone
            (loop $entries
              (br_if $edone (i32.ge_u (local.get $e) (local.get $end)))
              (local.set $yi (i32.add (local.get $yp) (i32.mul (i32.load (i32.add (local.get $indices) (i32.shl (local.get $e) (i32.const 2)))) (local.get $row))))
              (local.set $c (f32.load (i32.add (local.get $conf) (i32.shl (local.get $e) (i32.const 2)))))
              (local.set $t (f32.sub (f32.add (f32.const 1) (local.get $c)) (f32.mul (local.get $c) (call $dot (local.get $yi) (local.get $x) (local.get $n)))))
              (call $axpy (local.get $t) (local.get $yi) (local.get $r) (local.get $n))
              (local.set $e (i32.add (local.get $e) (i32.const 1)))
              (br $entries)))
          (memory.copy (local.get $p) (local.get $r) (local.get $row))
          (local.set $rsold (call $dot (local.get $r) (local.get $r) (local.get $n)))
          (br_if $rowdone (f32.lt (local.get $rsold) (f32.const 1e-20)))
          (local.set $it (i32.const 0))
          (block $cgdone
            (loop $cg
              (br_if $cgdone (i32.ge_u (local.get $it) (local.get $steps)))
              ;; ap = G p + sum c (y . p) y
              (call $symv (local.get $g) (local.get $p) (local.get $ap) (local.get $n) (f32.const 1))
              (local.set $e (i32.load (i32.add (local.get $indptr) (i32.shl (local.get $u) (i32.const 2)))))
              (block $e2done
                (loop $entries2
                  (br_if $e2done (i32.ge_u (local.get $e) (local.get $end)))
                  (local.set $yi (i32.add (local.get $yp) (i32.mul (i32.load (i32.add (local.get $indices) (i32.shl (local.get $e) (i32.const 2)))) (local.get $row))))
                  (local.set $t (f32.mul (f32.load (i32.add (local.get $conf) (i32.shl (local.get $e) (i32.const 2)))) (call $dot (local.get $yi) (local.get $p) (local.get $n))))
                  (call $axpy (local.get $t) (local.get $yi) (local.get $ap) (local.get $n))
                  (local.set $e (i32.add (local.get $e) (i32.const 1)))
                  (br $entries2)))
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

  ;; out[r] = q . rows[r] for r in [0, count), rows of n floats (dense scoring)
  (func (export "score_rows") (param $q i32) (param $rows i32) (param $count i32) (param $n i32) (param $out i32)
    (local $i i32) (local $row i32)
    (local.set $row (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (f32.store (local.get $out) (call $dot (local.get $q) (local.get $rows) (local.get $n)))
        (local.set $rows (i32.add (local.get $rows) (local.get $row)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))
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
