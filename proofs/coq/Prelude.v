(* Prelude: small general facts shared by every family file.

   Nothing here is a claim of the project; these are helper lemmas (each one matrix fact)
   so that the family files read like the papers' proof sketches:
   - [dot]: the dot product of two column vectors, as [linalg::dot] in src/linalg.rs;
   - [mulmx_sum_col]: A u = sum_i u_i (column i of A);
   - [mulmx_tr_sum]: A B^T = sum_i (col i A)(col i B)^T (outer products);
   - [row_mul_col_dot]: (u^T B)_{0 i} = dot u (col i B);
   - [trmxZ], [trmxD]: transpose of a scaled matrix and of a sum;
   - [iter_layers] and [iter_layers_sim]: "induction over layers": if one layer maps
     the form g(w) to g(G w), then l layers map g(w_0) to g(G^l w_0). *)
From mathcomp Require Import all_ssreflect all_algebra.
Set Implicit Arguments.
Unset Strict Implicit.
Unset Printing Implicit Defensive.
Import GRing.Theory.
Local Open Scope ring_scope.

Section Prelude.
Variable R : comRingType.

(* [linalg::dot]: sum_k u_k v_k. *)
Definition dot (d : nat) (u v : 'cV[R]_d) : R := \sum_(k < d) u k 0 * v k 0.

Lemma mulmx_sum_col (m n : nat) (A : 'M[R]_(m, n)) (u : 'cV[R]_n) :
  A *m u = \sum_(i < n) u i 0 *: col i A.
Proof.
apply/matrixP=> a b; rewrite summxE !mxE (ord1 b).
by apply: eq_bigr => i _; rewrite !mxE mulrC.
Qed.

Lemma mulmx_tr_sum (m p n : nat) (A : 'M[R]_(m, n)) (B : 'M[R]_(p, n)) :
  A *m B^T = \sum_(i < n) col i A *m (col i B)^T.
Proof.
apply/matrixP=> a b; rewrite summxE !mxE.
apply: eq_bigr => i _; rewrite !mxE big_ord1 !mxE.
by [].
Qed.

Lemma row_mul_col_dot (d n : nat) (u : 'cV[R]_d) (B : 'M[R]_(d, n)) (i : 'I_n) :
  (u^T *m B) 0 i = dot u (col i B).
Proof. by rewrite !mxE; apply: eq_bigr => k _; rewrite !mxE. Qed.

Lemma trmxZ (m n : nat) (a : R) (A : 'M[R]_(m, n)) : (a *: A)^T = a *: A^T.
Proof. by apply/matrixP=> i j; rewrite !mxE. Qed.

Lemma trmxN (m n : nat) (A : 'M[R]_(m, n)) : (- A)^T = - A^T.
Proof. by apply/matrixP=> i j; rewrite !mxE. Qed.

Lemma trmxD (m n : nat) (A B : 'M[R]_(m, n)) : (A + B)^T = A^T + B^T.
Proof. by apply/matrixP=> i j; rewrite !mxE. Qed.

(* Scalars out of products, both sides: normal form a *: (A *m B). *)
Lemma scalemxAlR (m n p : nat) (a : R) (A : 'M[R]_(m, n)) (B : 'M[R]_(n, p)) :
  a *: A *m B = a *: (A *m B).
Proof. by rewrite scalemxAl. Qed.

Lemma scalemxArR (m n p : nat) (a : R) (A : 'M[R]_(m, n)) (B : 'M[R]_(n, p)) :
  A *m (a *: B) = a *: (A *m B).
Proof. by rewrite scalemxAr. Qed.

End Prelude.

(* An abelian reordering used by the Lemma-1 proof. *)
Lemma zmod_swap4 (V : zmodType) (a b c e : V) : a - b + (c + e) = a + e + (c - b).
Proof. by rewrite -!addrA; congr (_ + _); rewrite [LHS]addrC [c + e]addrC -addrA. Qed.

(* sum_i (a/n delta_i) x_i = (1/n) (a X) delta^T: the code's batch sum as a matrix product. *)
Lemma sum_scaled_cols (R : fieldType) (k n : nat) (a : R) (X : 'M[R]_(k, n))
    (delta : 'rV[R]_n) :
  \sum_(i < n) (a / n%:R * delta 0 i) *: col i X = n%:R^-1 *: (a *: X *m delta^T).
Proof.
rewrite scalemxAlR mulmx_sum_col !scaler_sumr; apply: eq_bigr => i _.
by rewrite !scalerA mxE mulrA [n%:R^-1 * a]mulrC.
Qed.

(* Move every scalar out of matrix products and reassociate to the left. *)
Ltac scal_out := rewrite ?(scalemxArR, scalemxAlR) ?mulmxA.

(* Clear the zero and identity products that block multiplication leaves behind. *)
Ltac mxsimpl :=
  rewrite ?(mulmx0, mul0mx, mulmx1, mul1mx, addr0, add0r, subr0, sub0r, scaler0, scale0r,
            oppr0, trmx0, trmx1).

(* Layer l of a stack: [iter_layers f x0 l] = f (l-1) (... (f 0 x0)). *)
Fixpoint iter_layers (T : Type) (f : nat -> T -> T) (x0 : T) (l : nat) : T :=
  match l with
  | 0 => x0
  | l'.+1 => f l' (iter_layers f x0 l')
  end.

(* Induction over layers: a layer that maps the invariant form [g w] to [g (G k w)]
   makes l layers map [g w0] to [g] of the l-th iterate. *)
Lemma iter_layers_sim (T U : Type) (F : nat -> T -> T) (G : nat -> U -> U)
    (g : U -> T) (w0 : U) :
  (forall k w, F k (g w) = g (G k w)) ->
  forall l, iter_layers F (g w0) l = g (iter_layers G w0 l).
Proof. by move=> step; elim=> [|l IH] //=; rewrite IH step. Qed.
