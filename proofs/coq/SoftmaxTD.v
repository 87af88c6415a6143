(* [XZ] (arXiv:2605.07333) Theorem 1 and Lemma 1: masked softmax attention, layer l = weighted
   softmax TD iterate l. All d, n, depths, steps alpha_l, and any kernel f in place of exp.

   Registry ids and statements (src/theorem/softmax_td.rs, proofs/softmax-td.md):
   - softmax-td-equivalence [Q] (Thm 1; indices [D]): with A = diag(I_d, 0),
       u = e_d + e_{d+1} - e_{d+2} and two heads sharing A (the second shifted), every layer l
       and column j of the masked transformer satisfies Z_l[d+2, j] = v_l(S_j) (weighted softmax
       TD from v_0 = 0), Z_l[d+1, j] = gamma v_l(S_{j+1}) (0 at j = n); rows 0..d never change;
       the query column is never a source.             Coq: [softmax_td_equivalence]
   - softmax-td-single-head [Q] (Lemma 1): one head V = alpha e_{d+2} u^T followed by
       U Z~ + W Z~ Pi equals the two-head layer.      Coq: [softmax_td_single_head] (every
       layer of the two forward passes from the prompt), [single_head_layer_on_form] (one
       layer, on the invariant set), [single_head_gap] (the exact difference on any Z).

   The kernel. The code's attention is the column softmax exp(g_ij - m_j)/sum_i exp(g_ij - m_j)
   over the unmasked sources (src/attention/softmax.rs, masked_softmax_cols), which equals
   exp(g_ij)/sum_i exp(g_ij). Here exp is replaced by an arbitrary function f : R -> R, so
   f = exp(beta .) covers every inverse temperature beta; the reference weighted softmax TD
   (src/rl/softmax_td.rs) is written with the same f. The mask M[n, .] = -inf is the weight 0
   of source n. Nothing about f is used (not even f > 0): the identity is algebraic.

   Mirrors src/attention/softmax.rs (prompt, masked_softmax_cols, MultiHeadLayer, ShiftLayer),
   src/construction/softmax.rs (attention_matrix, u_vector, outer_row, Parts::two_head_layer,
   Parts::shift_layer), src/rl/softmax_td.rs (WeightedSoftmaxTd::td_errors, step, iterates).
   Rows: d + 3 = d + (1 + (1 + 1)): features, reward R_{j+1}, target memory, current memory.
   Columns n + 1; states S_0..S_n and rewards R_1..R_n are given as functions of the index
   (st j = S_j, rw k = R_{k+1}). Over any field R. *)
From mathcomp Require Import all_ssreflect all_algebra.
From mathcomp Require Import ring.
From ICRL Require Import Prelude.
Set Implicit Arguments.
Unset Strict Implicit.
Unset Printing Implicit Defensive.
Import GRing.Theory.
Local Open Scope ring_scope.

Section SoftmaxTD.
Variables (R : fieldType) (d n : nat).
Local Notation D := (d + (1 + (1 + 1)))%N.

(* ---- Construction (src/construction/softmax.rs) ---- *)

(* [attention_matrix]: A = diag(I_d, 0_{3x3}). *)
Definition A_att : 'M[R]_D := block_mx 1%:M 0 0 0.

(* e_{d+1} (target memory), e_{d+2} (current memory). *)
Definition e_tgt : 'cV[R]_D := col_mx 0 (col_mx 0 (col_mx 1%:M 0)).
Definition e_cur : 'cV[R]_D := col_mx 0 (col_mx 0 (col_mx 0 1%:M)).
(* [u_vector]: u = e_d + e_{d+1} - e_{d+2}. *)
Definition u_vec : 'cV[R]_D := col_mx 0 (col_mx 1%:M (col_mx 1%:M (- 1%:M))).

(* The column shift Pi = sum_{j<n} e_{j+1} e_j^T: (Y Pi)[:, j] = Y[:, j+1], last column 0. *)
Definition shift_mx : 'M[R]_(n + 1) := \matrix_(i, j) ((i == j.+1 :> nat)%:R).

(* [masked_softmax_cols] with exp replaced by f: column j normalizes over the sources i < n;
   source n (the query) has weight 0. *)
Definition attn (f : R -> R) (G : 'M[R]_(n + 1)) : 'M[R]_(n + 1) :=
  \matrix_(i, j) (if (i < n)%N
                  then f (G i j) / \sum_(m < n) f (G (lshift 1 m) j)
                  else 0).

Definition scores (Z : 'M[R]_(D, n + 1)) : 'M[R]_(n + 1) := Z^T *m A_att *m Z.

(* [Parts::two_head_layer]: Z + V1 Z S + V2 Z S Pi, V1 = alpha e_{d+2} u^T,
   V2 = gamma alpha e_{d+1} u^T ([outer_row]), S = attn f (Z^T A Z). *)
Definition two_head_layer (f : R -> R) (gamma alpha : R) (Z : 'M[R]_(D, n + 1)) :=
  let S := attn f (scores Z) in
  Z + (alpha *: (e_cur *m u_vec^T)) *m Z *m S
    + ((gamma * alpha) *: (e_tgt *m u_vec^T)) *m Z *m S *m shift_mx.

(* [Parts::shift_layer] (Lemma 1): Z~ = Z + V Z S, then U Z~ + W Z~ Pi with
   U = I - e_{d+1} e_{d+1}^T, W = gamma e_{d+1} e_{d+2}^T. *)
Definition U_mx : 'M[R]_D := 1%:M - e_tgt *m e_tgt^T.
Definition W_mx (gamma : R) : 'M[R]_D := gamma *: (e_tgt *m e_cur^T).
Definition shift_layer (f : R -> R) (gamma alpha : R) (Z : 'M[R]_(D, n + 1)) :=
  let S := attn f (scores Z) in
  let Zt := Z + (alpha *: (e_cur *m u_vec^T)) *m Z *m S in
  U_mx *m Zt + W_mx gamma *m Zt *m shift_mx.

(* ---- The trajectory and the reference (src/rl/softmax_td.rs) ---- *)
Variables (S : Type) (x : S -> 'cV[R]_d) (st : nat -> S) (rw : nat -> R) (gamma : R)
          (f : R -> R).
(* st j = S_j (j = 0..n), rw k = R_{k+1} = r(S_k) (k = 0..n-1), x the state features. *)

(* [prompt]: column j = [x(S_j); R_{j+1} (0 at j = n); 0; 0]. *)
Definition feat : 'M[R]_(d, n + 1) := \matrix_(k, j) x (st j) k 0.
Definition rew_row : 'rV[R]_(n + 1) := \row_j (if (j < n)%N then rw j else 0).
Definition sm_prompt : 'M[R]_(D, n + 1) := col_mx feat (col_mx rew_row (col_mx 0 0)).

(* [WeightedSoftmaxTd::td_errors]: delta_{k+1} = R_{k+1} + gamma v(S_{k+1}) - v(S_k). *)
Definition sm_delta (v : S -> R) (k : nat) : R := rw k + gamma * v (st k.+1) - v (st k).

(* K(S_k, s) = f(<x(s), x(S_k)>) / sum_{m<n} f(<x(s), x(S_m)>). *)
Definition kernel (k : nat) (s : S) : R :=
  f (dot (x s) (x (st k))) / \sum_(m < n) f (dot (x s) (x (st m))).

(* [WeightedSoftmaxTd::step]: v(s) + alpha sum_k K(S_k, s) delta_{k+1}, for every state s. *)
Definition sm_step (alpha : R) (v : S -> R) : S -> R :=
  fun s => v s + alpha * \sum_(k < n) kernel k s * sm_delta v k.

(* [WeightedSoftmaxTd::iterates], v_0 = 0, with steps alphas l. *)
Definition sm_iterates (alphas : nat -> R) := iter_layers (fun l => sm_step (alphas l)) (fun _ => 0).

(* ---- The invariant form: features and rewards as in the prompt, target row gamma v(S_{j+1})
   (0 at j = n), current row v(S_j) ---- *)
Definition cur_row (v : S -> R) : 'rV[R]_(n + 1) := \row_j v (st j).
Definition next_row (v : S -> R) : 'rV[R]_(n + 1) :=
  \row_j (if (j < n)%N then v (st j.+1) else 0).
Definition sm_form (v : S -> R) : 'M[R]_(D, n + 1) :=
  col_mx feat (col_mx rew_row (col_mx (gamma *: next_row v) (cur_row v))).

(* ---- one fact each ---- *)

Lemma ltnS_add1 (a b : nat) : (a.+1 < b + 1)%N = (a < b)%N.
Proof. by rewrite addn1 ltnS. Qed.

Lemma shift_next_row v : cur_row v *m shift_mx = next_row v.
Proof.
apply/rowP=> j; rewrite !mxE.
case: ifP => hj.
  have hj1 : (j.+1 < n + 1)%N by rewrite ltnS_add1.
  rewrite (bigD1 (Ordinal hj1)) //= !mxE eqxx mulr1 big1 ?addr0 // => i hi.
  rewrite !mxE; case: eqP => [hij|]; last by rewrite mulr0.
  by move: hi; rewrite -val_eqE /= hij eqxx.
rewrite big1 // => i _; rewrite !mxE; case: eqP => [hij|]; last by rewrite mulr0.
have := ltn_ord i; rewrite hij ltnS_add1 hj //.
Qed.

Lemma prompt_form : sm_prompt = sm_form (fun _ => 0).
Proof.
rewrite /sm_prompt /sm_form; congr (col_mx _ (col_mx _ (col_mx _ _))).
  by apply/rowP=> j; rewrite !mxE; case: ifP; rewrite ?mulr0.
by apply/rowP=> j; rewrite !mxE.
Qed.

(* The scores read only the feature rows: Z^T A Z = X^T X. *)
Lemma scores_form v : scores (sm_form v) = feat^T *m feat.
Proof.
rewrite /scores /sm_form /A_att tr_col_mx mul_row_block; mxsimpl.
by rewrite mul_row_col; mxsimpl.
Qed.

(* u^T Z = reward row + target row - current row. *)
Lemma u_form v :
  u_vec^T *m sm_form v = rew_row + gamma *: next_row v - cur_row v.
Proof.
rewrite /u_vec /sm_form !tr_col_mx !mul_row_col; mxsimpl.
by rewrite trmxN trmx1 mulNmx mul1mx addrA.
Qed.

Lemma e_cur_mul (r : 'rV[R]_(n + 1)) : e_cur *m r = col_mx 0 (col_mx 0 (col_mx 0 r)).
Proof. by rewrite /e_cur !mul_col_mx; mxsimpl. Qed.

Lemma e_tgt_mul (r : 'rV[R]_(n + 1)) : e_tgt *m r = col_mx 0 (col_mx 0 (col_mx r 0)).
Proof. by rewrite /e_tgt !mul_col_mx; mxsimpl. Qed.

(* The attention sum of the TD-error row at column j is the kernel sum of state S_j. *)
Lemma attn_delta_sum v :
  (rew_row + gamma *: next_row v - cur_row v) *m attn f (feat^T *m feat)
  = \row_j \sum_(k < n) kernel k (st j) * sm_delta v k.
Proof.
apply/rowP=> j; rewrite !mxE big_split_ord /= big_ord1 !mxE /= addn0 ltnn mulr0 addr0.
apply: eq_bigr => k _; rewrite !mxE /= ltn_ord /kernel /sm_delta mulrC.
congr (f _ / _ * _).
  by rewrite /dot; apply: eq_bigr => a _; rewrite !mxE mulrC.
by apply: eq_bigr => m _; congr f; rewrite !mxE /dot; apply: eq_bigr => a _;
  rewrite !mxE mulrC.
Qed.

Definition krow (v : S -> R) : 'rV[R]_(n + 1) :=
  \row_j \sum_(k < n) kernel k (st j) * sm_delta v k.

Lemma cur_row_step alpha v : cur_row v + alpha *: krow v = cur_row (sm_step alpha v).
Proof. by apply/rowP=> j; rewrite !mxE. Qed.

(* One two-head layer on the invariant form is one weighted softmax TD step. *)
Lemma two_head_layer_form alpha v :
  two_head_layer f gamma alpha (sm_form v) = sm_form (sm_step alpha v).
Proof.
rewrite /two_head_layer scores_form !scalemxAlR -!mulmxA !(mulmxA u_vec^T) u_form.
rewrite [_ *m (attn _ _ *m shift_mx)]mulmxA attn_delta_sum -/(krow v).
rewrite e_cur_mul e_tgt_mul !scale_col_mx /sm_form !add_col_mx; mxsimpl.
congr (col_mx _ (col_mx _ (col_mx _ _))); last by rewrite cur_row_step.
by rewrite -!shift_next_row -cur_row_step mulmxDl scalemxAlR scalerDr scalerA.
Qed.

(* softmax-td-equivalence [Q]: every layer l (steps alphas), every column. *)
Definition tf_two_head (alphas : nat -> R) :=
  iter_layers (fun l => two_head_layer f gamma (alphas l)) sm_prompt.

Theorem softmax_td_equivalence (alphas : nat -> R) (l : nat) :
  let Z := tf_two_head alphas l in let v := sm_iterates alphas l in
  [/\ usubmx Z = feat,                                   (* rows 0..d-1 unchanged *)
      usubmx (dsubmx Z) = rew_row,                       (* row d unchanged *)
      usubmx (dsubmx (dsubmx Z)) = gamma *: next_row v   (* Z_l[d+1, j] = gamma v_l(S_{j+1}) *)
    & dsubmx (dsubmx (dsubmx Z)) = cur_row v].           (* Z_l[d+2, j] = v_l(S_j) *)
Proof.
have -> : tf_two_head alphas l = sm_form (sm_iterates alphas l).
  rewrite /tf_two_head /sm_iterates prompt_form.
  by apply: (iter_layers_sim (g := sm_form)) => k w; exact: two_head_layer_form.
rewrite /sm_form !col_mxKu !col_mxKd; split=> //; exact: col_mxKu.
Qed.

(* ---- Lemma 1 ---- *)

(* On any Z the single-head form differs from the two-head form by
   e_{d+1} (gamma (row d+2 of Z) Pi - row d+1 of Z): it needs the memory invariant. *)
Lemma single_head_gap alpha (Z : 'M[R]_(D, n + 1)) :
  shift_layer f gamma alpha Z
  = two_head_layer f gamma alpha Z
    + e_tgt *m (gamma *: (e_cur^T *m Z *m shift_mx) - e_tgt^T *m Z).
Proof.
rewrite /shift_layer /two_head_layer /U_mx /W_mx.
set Sm := attn f _; set Zt := Z + _.
have ecur_e : e_cur^T *m e_cur = 1%:M.
  by rewrite /e_cur !tr_col_mx !mul_row_col; mxsimpl.
have etgt_ecur : e_tgt^T *m e_cur = 0.
  by rewrite /e_tgt /e_cur !tr_col_mx !mul_row_col; mxsimpl.
have h1 : e_tgt^T *m Zt = e_tgt^T *m Z.
  rewrite /Zt mulmxDr !scalemxAlR !scalemxArR !mulmxA etgt_ecur; mxsimpl.
  by [].  
have h2 : e_cur^T *m Zt = e_cur^T *m Z + alpha *: (u_vec^T *m Z *m Sm).
  by rewrite /Zt mulmxDr !scalemxAlR !scalemxArR !mulmxA ecur_e mul1mx.
rewrite mulmxBl mul1mx -mulmxA h1 scalemxAlR -!mulmxA h2 mulmxDr mulmxBr.
scal_out; rewrite mulmxDl scalerDr scalemxAlR scalerA; scal_out.
exact: zmod_swap4.
Qed.

Lemma single_head_layer_on_form alpha v :
  shift_layer f gamma alpha (sm_form v) = two_head_layer f gamma alpha (sm_form v).
Proof.
rewrite single_head_gap.
have -> : e_cur^T *m sm_form v = cur_row v.
  by rewrite /e_cur /sm_form !tr_col_mx !mul_row_col; mxsimpl.
have -> : e_tgt^T *m sm_form v = gamma *: next_row v.
  by rewrite /e_tgt /sm_form !tr_col_mx !mul_row_col; mxsimpl.
by rewrite shift_next_row subrr; mxsimpl.
Qed.

Definition tf_single_head (alphas : nat -> R) :=
  iter_layers (fun l => shift_layer f gamma (alphas l)) sm_prompt.

(* softmax-td-single-head [Q]: the Lemma-1 forward pass equals the two-head forward pass at
   every layer, from the prompt. *)
Theorem softmax_td_single_head (alphas : nat -> R) (l : nat) :
  tf_single_head alphas l = tf_two_head alphas l.
Proof.
have -> : tf_single_head alphas l = sm_form (sm_iterates alphas l).
  rewrite /tf_single_head /sm_iterates prompt_form.
  apply: (iter_layers_sim (g := sm_form)) => k w.
  by rewrite single_head_layer_on_form two_head_layer_form.
rewrite /tf_two_head /sm_iterates prompt_form; symmetry.
by apply: (iter_layers_sim (g := sm_form)) => k w; exact: two_head_layer_form.
Qed.

End SoftmaxTD.
