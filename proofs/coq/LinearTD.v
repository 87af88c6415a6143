(* [WB] linear attention implements batch TD (arXiv:2405.13861), all dimensions.

   Registry ids and statements (src/theorem/linear_td.rs, proofs/linear-td.md):
   - linear-td [Q] ([WB] §3 and public code; general C_l re-derived):
       with P^TD, Q^TD(C_l) and the query mask, every layer l of the linear transformer
       carries the batch preconditioned TD(0) iterate: -Z_l[2d,n] = w_l^T phi_q,
       Z_l[2d,i] = delta_i(w_l), rows 0..2d-1 unchanged; any C_l, any depth.
       Coq: [linear_td] (and [linear_td_layer], the one-layer step for any mask).
   - linear-td-lambda [Q] ([WB] code, orientation checked here): with the mask
       lambda^{row-col} (row >= col) on the context block the layers carry batch TD(lambda),
       w <- w + (1/n) C sum_j delta_j e_j, e_j = lambda e_{j-1} + phi_j.
       Coq: [linear_td_lambda]; the trace recursion is [elig_rec], [elig0].
   - linear-td-residual [Q] ([WB] code): with Q top-left [[-C^T, C^T], [C^T, -C^T]] the
       layers carry residual-gradient TD, w <- w + (1/n) C sum_i delta_i (phi_i - gamma phi'_i).
       Coq: [linear_td_residual].

   Mirrors src/attention/prompt.rs (td_prompt, td_readout), src/attention/linear.rs
   (masked_layer, query_mask, td_lambda_mask), src/construction/linear_td.rs (p_td, q_td,
   q_residual), src/rl/td.rs (td_errors, td_step, td_iterates).  Rows are split
   (d, d, 1) as d + d + 1, columns (n, 1) as n + 1: the last column is the query.
   Over any field R (no order needed); n is the number of context columns and the layer
   uses n%:R^-1 (the code's 1/n). *)
From mathcomp Require Import all_ssreflect all_algebra.
From ICRL Require Import Prelude.
Set Implicit Arguments.
Unset Strict Implicit.
Unset Printing Implicit Defensive.
Import GRing.Theory.
Local Open Scope ring_scope.

Section LinearTD.
Variables (R : fieldType) (d n : nat).

(* ---- Construction (src/construction/linear_td.rs, src/attention/linear.rs) ---- *)

(* [p_td]: (2d+1)x(2d+1), only the bottom-right entry is 1 (P^TD = e_{2d} e_{2d}^T). *)
Definition P_TD : 'M[R]_(d + d + 1) := block_mx 0 0 0 1%:M.

(* [q_td]: Q^TD(C) = [[-C^T, C^T, 0], [0, 0, 0], [0, 0, 0]] in blocks (d, d, 1). *)
Definition Q_TD (C : 'M[R]_d) : 'M[R]_(d + d + 1) :=
  block_mx (block_mx (- C^T) C^T 0 0) 0 0 0. (* NEGCTL:Q_TD *)

(* [q_residual]: top-left [[-C^T, C^T], [C^T, -C^T]]. *)
Definition Q_residual (C : 'M[R]_d) : 'M[R]_(d + d + 1) :=
  block_mx (block_mx (- C^T) C^T C^T (- C^T)) 0 0 0.

(* [query_mask]: M = diag(1,...,1,0) of size n+1 (the query is never a source). *)
Definition query_mask : 'M[R]_(n + 1) := block_mx 1%:M 0 0 0.

(* [td_lambda_mask]: context block lower triangular with lambda^{row-col} (row >= col),
   query row and column zero. *)
Definition lambda_block (lam : R) : 'M[R]_n :=
  \matrix_(i, j) (if (j <= i)%N then lam ^+ (i - j) else 0).
Definition td_lambda_mask (lam : R) : 'M[R]_(n + 1) := block_mx (lambda_block lam) 0 0 0.

(* [masked_layer]: Z_{l+1} = Z_l + (1/n) P Z_l M (Z_l^T Q Z_l). *)
Definition masked_layer (P Q : 'M[R]_(d + d + 1)) (M : 'M[R]_(n + 1))
    (Z : 'M[R]_(d + d + 1, n + 1)) : 'M[R]_(d + d + 1, n + 1) :=
  Z + n%:R^-1 *: (P *m Z *m M *m (Z^T *m Q *m Z)).

(* [td_readout]: v = -Z[2d, n] (a 1x1 matrix). *)
Definition td_readout (Z : 'M[R]_(d + d + 1, n + 1)) : 'M[R]_1 := - rsubmx (dsubmx Z).

(* ---- The context (src/mdp/batch.rs as used by td_prompt) ---- *)
Variables (Phi Phi' : 'M[R]_(d, n)) (gamma : R) (r : 'rV[R]_n) (phi_q : 'cV[R]_d).
(* column i of Phi is phi_i = x(S_i), of Phi' is phi'_i = x(S_{i+1}); r_i = R_{i+1}. *)

(* [td_prompt]: context column i = [phi_i; gamma phi'_i; r_i], query column [phi_q; 0; 0]. *)
Definition td_prompt : 'M[R]_(d + d + 1, n + 1) :=
  col_mx (col_mx (row_mx Phi phi_q) (row_mx (gamma *: Phi') 0)) (row_mx r 0).

(* ---- The reference (src/rl/td.rs) ---- *)

(* [td_errors]: delta_i(w) = r_i + gamma w^T phi'_i - w^T phi_i. *)
Definition td_errors (w : 'cV[R]_d) : 'rV[R]_n :=
  \row_i (r 0 i + gamma * dot w (col i Phi') - dot w (col i Phi)).

(* [td_step], TD(0): w + (1/n) C sum_i delta_i phi_i. *)
Definition td_step (C : 'M[R]_d) (w : 'cV[R]_d) : 'cV[R]_d :=
  w + n%:R^-1 *: (C *m \sum_(i < n) td_errors w 0 i *: col i Phi).

(* Eligibility trace e_k = sum_{i <= k} lam^{k-i} phi_i; [elig0], [elig_rec] below show it is
   the code's recursion e_j = lam e_{j-1} + phi_j, e_{-1} = 0. *)
Definition elig (lam : R) (k : nat) : 'cV[R]_d :=
  \sum_(i < n | (i <= k)%N) lam ^+ (k - i) *: col i Phi.

(* [td_step], TD(lambda): w + (1/n) C sum_j delta_j e_j. *)
Definition td_lambda_step (lam : R) (C : 'M[R]_d) (w : 'cV[R]_d) : 'cV[R]_d :=
  w + n%:R^-1 *: (C *m \sum_(j < n) td_errors w 0 j *: elig lam j).

(* [td_step], residual gradient: w + (1/n) C sum_i delta_i (phi_i - gamma phi'_i). *)
Definition td_residual_step (C : 'M[R]_d) (w : 'cV[R]_d) : 'cV[R]_d :=
  w + n%:R^-1 *: (C *m \sum_(i < n) td_errors w 0 i *: (col i Phi - gamma *: col i Phi')).

(* ---- The invariant form: rows 0..2d-1 as in the prompt, bottom row y + w^T (B - A) ---- *)
Definition td_form (A B : 'M[R]_(d, n + 1)) (y : 'rV[R]_(n + 1)) (w : 'cV[R]_d)
    : 'M[R]_(d + d + 1, n + 1) :=
  col_mx (col_mx A B) (y + w^T *m (B - A)).

Definition A0 : 'M[R]_(d, n + 1) := row_mx Phi phi_q.
Definition B0 : 'M[R]_(d, n + 1) := row_mx (gamma *: Phi') 0.
Definition y0 : 'rV[R]_(n + 1) := row_mx r 0.

(* ---- Helper lemmas: one block fact each ---- *)

Lemma P_TD_mul (m : nat) (X : 'M[R]_(d + d, m)) (e : 'rV[R]_m) :
  P_TD *m col_mx X e = col_mx 0 e.
Proof. by rewrite /P_TD mul_block_col !mul0mx mul1mx !add0r. Qed.

(* A Q of the form [[K (-1, 1), 0], [0, 0]] has Gram form (row(A^T,B^T) K)(B - A). *)
Lemma gram_form (K : 'M[R]_(d + d, d)) (A B : 'M[R]_(d, n + 1)) (e : 'rV[R]_(n + 1)) :
  (col_mx (col_mx A B) e)^T *m block_mx (K *m row_mx (- 1%:M) 1%:M) 0 0 0
    *m col_mx (col_mx A B) e
  = row_mx A^T B^T *m K *m (B - A).
Proof.
rewrite !tr_col_mx mul_row_block !mulmx0 !addr0 mul_row_col mul0mx addr0.
by rewrite -!mulmxA mul_row_col mulNmx !mul1mx addrC.
Qed.

Lemma Q_TD_split (C : 'M[R]_d) :
  Q_TD C = block_mx (col_mx C^T 0 *m row_mx (- 1%:M) 1%:M) 0 0 0.
Proof. by rewrite /Q_TD mul_col_row mulmxN !mulmx1 !mul0mx. Qed.

Lemma Q_residual_split (C : 'M[R]_d) :
  Q_residual C = block_mx (col_mx C^T (- C^T) *m row_mx (- 1%:M) 1%:M) 0 0 0.
Proof. by rewrite /Q_residual mul_col_row !mulmxN !mulmx1 opprK. Qed.

Lemma Q_TD_gram (C : 'M[R]_d) (A B : 'M[R]_(d, n + 1)) (e : 'rV[R]_(n + 1)) :
  (col_mx (col_mx A B) e)^T *m Q_TD C *m col_mx (col_mx A B) e = (C *m A)^T *m (B - A).
Proof. by rewrite Q_TD_split gram_form mul_row_col mulmx0 addr0 trmx_mul. Qed.

Lemma Q_residual_gram (C : 'M[R]_d) (A B : 'M[R]_(d, n + 1)) (e : 'rV[R]_(n + 1)) :
  (col_mx (col_mx A B) e)^T *m Q_residual C *m col_mx (col_mx A B) e
  = (C *m (A - B))^T *m (B - A).
Proof.
rewrite Q_residual_split gram_form mul_row_col trmx_mul [(A - B)^T]linearB /=.
by rewrite mulmxN [(A^T - B^T) *m _]mulmxBl.
Qed.

(* One layer, any mask M and any Q whose Gram form is G^T (B - A): the invariant form at w
   goes to the invariant form at w + (1/n) G M^T e^T, e the bottom row. *)
Lemma masked_layer_form (Q : 'M[R]_(d + d + 1)) (M : 'M[R]_(n + 1))
    (A B : 'M[R]_(d, n + 1)) (y : 'rV[R]_(n + 1)) (w : 'cV[R]_d) (G : 'M[R]_(d, n + 1)) :
  (td_form A B y w)^T *m Q *m td_form A B y w = G^T *m (B - A) ->
  masked_layer P_TD Q M (td_form A B y w)
  = td_form A B y (w + n%:R^-1 *: (G *m M^T *m (y + w^T *m (B - A))^T)).
Proof.
rewrite /masked_layer => hG; rewrite hG {hG} /td_form P_TD_mul !mul_col_mx !mul0mx.
rewrite scale_col_mx scaler0 add_col_mx addr0; congr col_mx.
rewrite trmxD trmxZ !trmx_mul !trmxK [(w^T + _) *m _]mulmxDl -scalemxAl addrA !mulmxA.
by [].
Qed.

Lemma prompt_form : td_prompt = td_form A0 B0 y0 0.
Proof. by rewrite /td_form trmx0 mul0mx addr0. Qed.

(* The bottom row of the form at w on the prompt: [delta(w) | -w^T phi_q]. *)
Lemma bottom_row (w : 'cV[R]_d) :
  y0 + w^T *m (B0 - A0) = row_mx (td_errors w) (- (w^T *m phi_q)).
Proof.
rewrite /y0 /A0 /B0 opp_row_mx add_row_mx add0r mul_mx_row add_row_mx add0r mulmxN.
congr row_mx; apply/rowP=> i; rewrite /td_errors /dot mulmxBr -scalemxAr !mxE addrA.
by congr (_ + _ * _ - _); apply: eq_bigr => k _; rewrite !mxE.
Qed.

Lemma query_mask_tr : query_mask^T = query_mask.
Proof. by rewrite /query_mask tr_block_mx trmx1 !trmx0. Qed.

(* The masked context sum: row(X, x) M^T [delta | v]^T = X delta^T (query column dropped). *)
Lemma query_mask_sum (X : 'M[R]_(d, n)) (x : 'cV[R]_d) (delta : 'rV[R]_n) (v : 'M[R]_1) :
  row_mx X x *m query_mask^T *m (row_mx delta v)^T = \sum_(i < n) delta 0 i *: col i X.
Proof.
rewrite query_mask_tr /query_mask mul_row_block; mxsimpl.
rewrite tr_row_mx mul_row_col; mxsimpl; rewrite mulmx_sum_col.
by apply: eq_bigr => i _; rewrite mxE.
Qed.

Lemma lambda_mask_sum lam (x : 'cV[R]_d) (delta : 'rV[R]_n) (v : 'M[R]_1) :
  row_mx Phi x *m (td_lambda_mask lam)^T *m (row_mx delta v)^T
  = \sum_(j < n) delta 0 j *: elig lam j.
Proof.
rewrite /td_lambda_mask tr_block_mx mul_row_block; mxsimpl.
rewrite tr_row_mx mul_row_col; mxsimpl; rewrite -mulmxA mulmx_sum_col.
transitivity (\sum_(j < n) \sum_(i < n) (delta 0 j * lambda_block lam j i) *: col i Phi).
  rewrite exchange_big; apply: eq_bigr => i _; rewrite -scaler_suml; congr (_ *: _).
  by rewrite !mxE; apply: eq_bigr => j _; rewrite !mxE mulrC.
apply: eq_bigr => j _; rewrite /elig scaler_sumr [RHS]big_mkcond /=.
apply: eq_bigr => i _; rewrite mxE -scalerA.
by case: ifP => _; rewrite ?(scaler0, mulr0, mul0r, scale0r).
Qed.

(* The code's trace recursion: e_0 = phi_0, e_{k+1} = lam e_k + phi_{k+1}. *)
Lemma elig0 lam (i0 : 'I_n) : i0 = 0%N :> nat -> elig lam 0 = col i0 Phi.
Proof.
move=> h0; rewrite /elig (big_pred1 i0) ?h0 ?subnn ?expr0 ?scale1r // => i.
by rewrite leqn0 /= -val_eqE /= h0.
Qed.

Lemma elig_rec lam k (i1 : 'I_n) : i1 = k.+1 :> nat ->
  elig lam k.+1 = lam *: elig lam k + col i1 Phi.
Proof.
move=> h1; rewrite /elig (bigD1 i1) /=; last by rewrite h1.
rewrite h1 subnn expr0 scale1r addrC scaler_sumr; congr (_ + _).
rewrite (eq_bigl (fun i : 'I_n => (i <= k)%N)); last first.
  by move=> i; rewrite -val_eqE /= h1 andbC -ltn_neqAle ltnS.
by apply: eq_bigr => i hi; rewrite subSn // exprS scalerA.
Qed.

(* One layer of each variant is one step of the matching update. *)
Lemma linear_td_layer (C : 'M[R]_d) w :
  masked_layer P_TD (Q_TD C) query_mask (td_form A0 B0 y0 w) = td_form A0 B0 y0 (td_step C w).
Proof.
rewrite (masked_layer_form _ _ (G := C *m A0)); last by rewrite /td_form Q_TD_gram.
by rewrite bottom_row -!mulmxA [A0 *m _]mulmxA /A0 query_mask_sum.
Qed.

Lemma linear_td_lambda_layer lam (C : 'M[R]_d) w :
  masked_layer P_TD (Q_TD C) (td_lambda_mask lam) (td_form A0 B0 y0 w)
  = td_form A0 B0 y0 (td_lambda_step lam C w).
Proof.
rewrite (masked_layer_form _ _ (G := C *m A0)); last by rewrite /td_form Q_TD_gram.
by rewrite bottom_row -!mulmxA [A0 *m _]mulmxA /A0 lambda_mask_sum.
Qed.

Lemma linear_td_residual_layer (C : 'M[R]_d) w :
  masked_layer P_TD (Q_residual C) query_mask (td_form A0 B0 y0 w)
  = td_form A0 B0 y0 (td_residual_step C w).
Proof.
rewrite (masked_layer_form _ _ (G := C *m (A0 - B0))); last first.
  by rewrite /td_form Q_residual_gram.
rewrite bottom_row -!mulmxA [(A0 - B0) *m _]mulmxA.
rewrite /A0 /B0 opp_row_mx add_row_mx oppr0 addr0 query_mask_sum /td_residual_step.
congr (td_form _ _ _ (_ + _ *: (_ *m _))); apply: eq_bigr => i _; congr (_ *: _).
by apply/matrixP=> a b; rewrite !mxE.
Qed.

(* ---- Depth: L layers = L steps ---- *)
Definition tf_td (Cs : nat -> 'M[R]_d) :=
  iter_layers (fun k Z => masked_layer P_TD (Q_TD (Cs k)) query_mask Z) td_prompt.
Definition td_iterates (Cs : nat -> 'M[R]_d) :=
  iter_layers (fun k w => td_step (Cs k) w) 0.

Definition tf_td_lambda lam (Cs : nat -> 'M[R]_d) :=
  iter_layers (fun k Z => masked_layer P_TD (Q_TD (Cs k)) (td_lambda_mask lam) Z) td_prompt.
Definition td_lambda_iterates lam (Cs : nat -> 'M[R]_d) :=
  iter_layers (fun k w => td_lambda_step lam (Cs k) w) 0.

Definition tf_td_residual (Cs : nat -> 'M[R]_d) :=
  iter_layers (fun k Z => masked_layer P_TD (Q_residual (Cs k)) query_mask Z) td_prompt.
Definition td_residual_iterates (Cs : nat -> 'M[R]_d) :=
  iter_layers (fun k w => td_residual_step (Cs k) w) 0.

(* What the registry claims of layer l, read off the invariant form. *)
Definition td_claim (Z : 'M[R]_(d + d + 1, n + 1)) (w : 'cV[R]_d) : Prop :=
  [/\ usubmx Z = usubmx td_prompt,                        (* rows 0..2d-1 unchanged *)
      lsubmx (dsubmx Z) = td_errors w                     (* Z_l[2d, i] = delta_i(w_l) *)
    & td_readout Z = w^T *m phi_q].                       (* -Z_l[2d, n] = w_l^T phi_q *)

Lemma td_form_claim w : td_claim (td_form A0 B0 y0 w) w.
Proof.
rewrite /td_claim prompt_form /td_form /td_readout !col_mxKu !col_mxKd bottom_row.
by rewrite row_mxKl row_mxKr opprK.
Qed.

(* linear-td [Q]: for every sequence of preconditioners C_l and every depth l. *)
Theorem linear_td (Cs : nat -> 'M[R]_d) (l : nat) :
  td_claim (tf_td Cs l) (td_iterates Cs l).
Proof.
have -> : tf_td Cs l = td_form A0 B0 y0 (td_iterates Cs l).
  rewrite /tf_td /td_iterates prompt_form.
  apply: (iter_layers_sim (g := td_form A0 B0 y0)) => k w.
  exact: linear_td_layer.
exact: td_form_claim.
Qed.

(* linear-td-lambda [Q]. *)
Theorem linear_td_lambda lam (Cs : nat -> 'M[R]_d) (l : nat) :
  td_claim (tf_td_lambda lam Cs l) (td_lambda_iterates lam Cs l).
Proof.
have -> : tf_td_lambda lam Cs l = td_form A0 B0 y0 (td_lambda_iterates lam Cs l).
  rewrite /tf_td_lambda /td_lambda_iterates prompt_form.
  apply: (iter_layers_sim (g := td_form A0 B0 y0)) => k w.
  exact: linear_td_lambda_layer.
exact: td_form_claim.
Qed.

(* linear-td-residual [Q]. *)
Theorem linear_td_residual (Cs : nat -> 'M[R]_d) (l : nat) :
  td_claim (tf_td_residual Cs l) (td_residual_iterates Cs l).
Proof.
have -> : tf_td_residual Cs l = td_form A0 B0 y0 (td_residual_iterates Cs l).
  rewrite /tf_td_residual /td_residual_iterates prompt_form.
  apply: (iter_layers_sim (g := td_form A0 B0 y0)) => k w.
  exact: linear_td_residual_layer.
exact: td_form_claim.
Qed.

End LinearTD.

Arguments P_TD {R d}.
Arguments query_mask {R n}.
