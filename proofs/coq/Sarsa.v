(* [LL] (arXiv:2605.05755): one linear-attention block = one batch semi-gradient SARSA step,
   all dimensions.

   Registry ids and statements (src/theorem/sarsa.rs, proofs/sarsa-*.md):
   - sarsa-readout-identity [Q] (Lemma C.1, Sigma_hat made explicit [D]): for arbitrary P, V,
       TF(H) = w + V21_bar Sigma_hat P12 wt + (1/n) V22_bar wt wt^T P22 wt,
       Sigma_hat = (1/n) sum_i x_i x_i^T, wt = [1; w].          Coq: [sarsa_readout_identity]
   - sarsa-output-independence [Q] (Prop. 3.1, readout part): perturbing P11, P21, V11, V12
       or the first rows of V21, V22 leaves TF(H) unchanged.    Coq: [sarsa_output_independence]
   - sarsa-equivalence [Q] (Thm 3.1, explicit matrices [D]): for every alpha and c <> 0 the
       block (c P_star, c^-1 V_star) maps [phi_i; gamma phi+_i; r_{i+1} | 1; w] to
       w_SARSA = w + (alpha/n) sum_i delta_i phi_i.            Coq: [sarsa_equivalence]
       (and [sarsa_block]: the whole output matrix is the prompt at w_SARSA).
   - sarsa-stacking [D]: L identical constructed blocks perform L batch SARSA steps on the same
       batch; data rows and the constant 1 unchanged.           Coq: [sarsa_stacking]

   Mirrors src/attention/prompt.rs (sarsa_prompt), src/attention/linear.rs (lsa_block),
   src/construction/sarsa.rs (p_star, v_star: P12 and V21_bar are the only nonzero blocks),
   src/rl/sarsa.rs (td_errors, batch_sarsa, batch_sarsa_steps).
   Sizes: token t = d + d + 1 (rows 0..2d), D = t + (1 + d) = 3d + 2, columns n + 1.
   Over any field. *)
From mathcomp Require Import all_ssreflect all_algebra.
From mathcomp Require Import ring.
From ICRL Require Import Prelude LSA.
Set Implicit Arguments.
Unset Strict Implicit.
Unset Printing Implicit Defensive.
Import GRing.Theory.
Local Open Scope ring_scope.

Section Sarsa.
Variables (R : fieldType) (d n : nat).

(* ---- Construction (src/construction/sarsa.rs) ---- *)

(* P12_star, (2d+1) x (1+d): rows on phi_i: [0 | -I]; rows on gamma phi+_i: [0 | I];
   row on r_{i+1}: [1 | 0]; so x_i^T P12_star [1; w] = delta_i. *)
Definition P12_star : 'M[R]_(d + d + 1, 1 + d) :=
  col_mx (col_mx (row_mx 0 (- 1%:M)) (row_mx 0 1%:M)) (row_mx 1%:M 0). (* NEGCTL:P_star *)

(* [p_star] at c = 1: only P12 is nonzero. *)
Definition P_star : 'M[R]_(d + d + 1 + (1 + d)) := block_mx 0 P12_star 0 0.

(* V21_star, (1+d) x (2d+1): first row zero (the constant 1 is never written), below it
   V21_bar_star = [alpha I | 0 | 0]. *)
Definition V21_star (alpha : R) : 'M[R]_(1 + d, d + d + 1) :=
  col_mx 0 (row_mx (row_mx (alpha *: 1%:M) 0) 0).

(* [v_star] at c = 1: only V21 is nonzero. *)
Definition V_star (alpha : R) : 'M[R]_(d + d + 1 + (1 + d)) := block_mx 0 0 (V21_star alpha) 0.

(* ---- The context ---- *)
Variables (Phi Phin : 'M[R]_(d, n)) (gamma : R) (r : 'rV[R]_n).
(* column i of Phi is phi_i = phi(s_i, a_i), of Phin is phi+_i = phi(s_{i+1}, a_{i+1}) (the
   recorded next pair), r 0 i = r_{i+1}. *)

(* Tokens x_i = [phi_i; gamma phi+_i; r_{i+1}] as the columns of X. *)
Definition tokens : 'M[R]_(d + d + 1, n) := col_mx (col_mx Phi (gamma *: Phin)) r.

(* [sarsa_prompt]: data columns x_i over zeros, parameter column [0; 0; 0; 1; w]. *)
Definition sarsa_prompt (w : 'cV[R]_d) : 'M[R]_(d + d + 1 + (1 + d), n + 1) :=
  param_prompt tokens w.

(* ---- The reference (src/rl/sarsa.rs) ---- *)

(* [td_errors]: delta_i = r_{i+1} + gamma w^T phi+_i - w^T phi_i. *)
Definition td_errors (w : 'cV[R]_d) : 'rV[R]_n :=
  \row_i (r 0 i + gamma * dot w (col i Phin) - dot w (col i Phi)).

(* [batch_sarsa]: w + sum_i ((alpha/n) delta_i) phi_i. *)
Definition w_sarsa (alpha : R) (w : 'cV[R]_d) : 'cV[R]_d :=
  w + \sum_(i < n) (alpha / n%:R * td_errors w 0 i) *: col i Phi.

(* ---- Mechanism: one block fact each ---- *)

Lemma td_errorsE w : td_errors w = r + w^T *m (gamma *: Phin - Phi).
Proof.
apply/rowP=> i; rewrite /td_errors /dot mulmxBr -scalemxAr !mxE addrA.
by congr (_ + _ * _ - _); apply: eq_bigr => k _; rewrite !mxE.
Qed.

(* x_i^T P12_star [1; w] = delta_i, for all i at once. *)
Lemma tokens_P12_star w : tokens^T *m (P12_star *m col_mx 1%:M w) = (td_errors w)^T.
Proof.
rewrite /tokens /P12_star !mul_col_mx !mul_row_col !tr_col_mx !mul_row_col; mxsimpl.
rewrite td_errorsE trmxD trmx_mul trmxK trmxD trmxZ linearN /= addrC.
by rewrite mulNmx mul1mx mulmxN mulmxBl [- _ + _]addrC.
Qed.

(* V21_bar_star x_i = alpha phi_i, for all i at once. *)
Lemma V21_bar_star_tokens alpha : dsubmx (V21_star alpha) *m tokens = alpha *: Phi.
Proof.
rewrite /V21_star col_mxKd /tokens !mul_row_col; mxsimpl.
by rewrite scalemxAlR mul1mx.
Qed.

Lemma w_sarsaE alpha w :
  w_sarsa alpha w = w + n%:R^-1 *: (alpha *: Phi *m (td_errors w)^T).
Proof.
rewrite /w_sarsa scalemxAlR mulmx_sum_col scaler_sumr scaler_sumr; congr (_ + _).
apply: eq_bigr => i _; rewrite !scalerA !mxE; congr (_ *: _).
by ring.
Qed.

(* ---- The theorems ---- *)

(* sarsa-readout-identity [Q]: Lemma C.1 for arbitrary P, V. *)
Theorem sarsa_readout_identity (P V : 'M[R]_(d + d + 1 + (1 + d))) (w : 'cV[R]_d) :
  let wt := col_mx 1%:M w in
  parameter_readout (lsa_block P V (sarsa_prompt w))
  = w + V21_bar V *m Sigma_hat tokens *m P12 P *m wt
      + n%:R^-1 *: (V22_bar V *m wt *m wt^T *m P22 P *m wt).
Proof. exact: readout_identity_general. Qed.

(* sarsa-output-independence [Q]: any perturbation of P11, P21, V11, V12 and of the first rows
   of V21 and V22 leaves the readout unchanged, exactly. *)
Theorem sarsa_output_independence (P V : 'M[R]_(d + d + 1 + (1 + d))) (w : 'cV[R]_d)
    (dP11 : 'M[R]_(d + d + 1)) (dP21 : 'M[R]_(1 + d, d + d + 1))
    (dV11 : 'M[R]_(d + d + 1)) (dV12 : 'M[R]_(d + d + 1, 1 + d))
    (dV21_row : 'rV[R]_(d + d + 1)) (dV22_row : 'rV[R]_(1 + d)) :
  parameter_readout (lsa_block (P + block_mx dP11 0 dP21 0)
                               (V + block_mx dV11 dV12 (col_mx dV21_row 0) (col_mx dV22_row 0))
                               (sarsa_prompt w))
  = parameter_readout (lsa_block P V (sarsa_prompt w)).
Proof.
rewrite !sarsa_readout_identity /=.
have -> : V21_bar (V + block_mx dV11 dV12 (col_mx dV21_row 0) (col_mx dV22_row 0))
          = V21_bar V.
  by rewrite /V21_bar -{1}(submxK V) add_block_mx block_mxKdl -(vsubmxK (dlsubmx V))
     add_col_mx !col_mxKd addr0.
have -> : V22_bar (V + block_mx dV11 dV12 (col_mx dV21_row 0) (col_mx dV22_row 0))
          = V22_bar V.
  by rewrite /V22_bar -{1}(submxK V) add_block_mx block_mxKdr -(vsubmxK (drsubmx V))
     add_col_mx !col_mxKd addr0.
have -> : P12 (P + block_mx dP11 0 dP21 0) = P12 P.
  by rewrite /P12 -{1}(submxK P) add_block_mx block_mxKur addr0.
have -> : P22 (P + block_mx dP11 0 dP21 0) = P22 P.
  by rewrite /P22 -{1}(submxK P) add_block_mx block_mxKdr addr0.
by [].
Qed.

(* The whole block output, for c <> 0: the prompt at w_SARSA (data columns and the constant 1
   unchanged, w replaced). *)
Lemma sarsa_block (alpha c : R) (w : 'cV[R]_d) : c != 0 ->
  lsa_block (c *: P_star) (c^-1 *: V_star alpha) (sarsa_prompt w)
  = sarsa_prompt (w_sarsa alpha w).
Proof.
move=> c0; rewrite /sarsa_prompt /param_prompt lsa_block_blocks /P11 /P12 /P21 /P22.
rewrite /P_star /V_star !scale_block_mx !block_mxKul !block_mxKur !block_mxKdl !block_mxKdr.
mxsimpl; congr block_mx.
rewrite !(scalemxArR, scalemxAlR) scalerA mulVf // scale1r tokens_P12_star.
rewrite /V21_star !mul_col_mx; mxsimpl; rewrite scale_col_mx add_col_mx; mxsimpl.
congr col_mx; rewrite w_sarsaE.
by have := V21_bar_star_tokens alpha; rewrite /V21_star col_mxKd => ->.
Qed.

(* sarsa-equivalence [Q]: Theorem 3.1, every alpha, every c <> 0. *)
Theorem sarsa_equivalence (alpha c : R) (w : 'cV[R]_d) : c != 0 ->
  parameter_readout (lsa_block (c *: P_star) (c^-1 *: V_star alpha) (sarsa_prompt w))
  = w_sarsa alpha w.
Proof.
by move=> c0; rewrite sarsa_block // /parameter_readout /sarsa_prompt /param_prompt
  block_mxKdr col_mxKd.
Qed.

(* c <> 0 is needed: at c = 0 (where c^-1 = 0 in a field) the block is the identity. *)
Lemma sarsa_c_zero (alpha : R) (w : 'cV[R]_d) :
  parameter_readout (lsa_block (0 *: P_star) (0^-1 *: V_star alpha) (sarsa_prompt w)) = w.
Proof.
rewrite invr0 !scale0r /lsa_block; mxsimpl.
by rewrite /parameter_readout /sarsa_prompt /param_prompt block_mxKdr col_mxKd.
Qed.

(* [batch_sarsa_steps]. *)
Definition sarsa_steps (alpha : R) (w : 'cV[R]_d) := iter_layers (fun _ => w_sarsa alpha) w.

(* sarsa-stacking [D]: L identical blocks = L SARSA steps on the same batch; the output is the
   prompt at the L-th iterate (so data rows and the constant 1 are unchanged). *)
Theorem sarsa_stacking (alpha c : R) (w : 'cV[R]_d) (L : nat) : c != 0 ->
  iter_layers (fun _ => lsa_block (c *: P_star) (c^-1 *: V_star alpha)) (sarsa_prompt w) L
  = sarsa_prompt (sarsa_steps alpha w L)
  /\ parameter_readout
       (iter_layers (fun _ => lsa_block (c *: P_star) (c^-1 *: V_star alpha))
                    (sarsa_prompt w) L)
     = sarsa_steps alpha w L.
Proof.
move=> c0.
have H : iter_layers (fun _ => lsa_block (c *: P_star) (c^-1 *: V_star alpha))
                     (sarsa_prompt w) L = sarsa_prompt (sarsa_steps alpha w L).
  by apply: (iter_layers_sim (g := sarsa_prompt)) => k v; exact: sarsa_block.
split=> //; rewrite H.
by rewrite /parameter_readout /sarsa_prompt /param_prompt block_mxKdr col_mxKd.
Qed.

End Sarsa.

Arguments P12_star {R d}.
Arguments P_star {R d}.
Arguments V21_star {R d}.
Arguments V_star {R d}.
