(* [LL] eq. 1: the linear self-attention block on a prompt with a parameter column, for any
   token length t and parameter length p (SARSA: t = 2d+1, p = d; actor-critic [R]:
   t = 2d+1+d_pi, p = d+d_pi).  Helper file: the registry statements are in Sarsa.v and
   ActorCritic.v; the general readout identity here is Lemma C.1's algebra.

   Mirrors src/attention/linear.rs (lsa_block: H + (1/n) (V H)(H^T P H), no mask) and
   src/attention/prompt.rs (actor_critic_prompt: data columns [x_i over 0], parameter column
   [0; 1; theta]; parameter_readout: the rows after the constant 1 of the last column), and
   src/construction/sarsa.rs (blocks along (token, 1 + params)). *)
From mathcomp Require Import all_ssreflect all_algebra.
From ICRL Require Import Prelude.
Set Implicit Arguments.
Unset Strict Implicit.
Unset Printing Implicit Defensive.
Import GRing.Theory.
Local Open Scope ring_scope.

Section LSA.
Variables (R : fieldType) (t p n : nat).

(* [lsa_block]: H_out = H + (1/n) (V H)(H^T P H), n = cols(H) - 1. *)
Definition lsa_block (P V : 'M[R]_(t + (1 + p))) (H : 'M[R]_(t + (1 + p), n + 1))
    : 'M[R]_(t + (1 + p), n + 1) :=
  H + n%:R^-1 *: ((V *m H) *m (H^T *m P *m H)).

(* The prompt: data columns x_i (the columns of X) over zeros; last column [0; 1; theta]. *)
Definition param_prompt (X : 'M[R]_(t, n)) (theta : 'cV[R]_p) : 'M[R]_(t + (1 + p), n + 1) :=
  block_mx X 0 0 (col_mx 1%:M theta).

(* [parameter_readout]: rows t+1.. of the last column. *)
Definition parameter_readout (H : 'M[R]_(t + (1 + p), n + 1)) : 'cV[R]_p :=
  dsubmx (drsubmx H).

(* Blocks along (t, 1 + p), as [blocks] in src/construction/sarsa.rs. *)
Definition P11 (P : 'M[R]_(t + (1 + p))) := ulsubmx P.
Definition P12 (P : 'M[R]_(t + (1 + p))) := ursubmx P.
Definition P21 (P : 'M[R]_(t + (1 + p))) := dlsubmx P.
Definition P22 (P : 'M[R]_(t + (1 + p))) := drsubmx P.
(* V21, V22 without their first row (the row that would write the constant 1). *)
Definition V21_bar (V : 'M[R]_(t + (1 + p))) : 'M[R]_(p, t) := dsubmx (dlsubmx V).
Definition V22_bar (V : 'M[R]_(t + (1 + p))) : 'M[R]_(p, 1 + p) := dsubmx (drsubmx V).

(* Sigma_hat = (1/n) sum_i x_i x_i^T. *)
Definition Sigma_hat (X : 'M[R]_(t, n)) : 'M[R]_t :=
  n%:R^-1 *: \sum_(i < n) col i X *m (col i X)^T.

(* ---- one block fact each ---- *)

Lemma mul_prompt_r (M : 'M[R]_(t + (1 + p))) (X : 'M[R]_(t, n)) (y : 'cV[R]_(1 + p)) :
  M *m block_mx X 0 0 y
  = block_mx (ulsubmx M *m X) (ursubmx M *m y) (dlsubmx M *m X) (drsubmx M *m y).
Proof. by rewrite -{1}(submxK M) mulmx_block; mxsimpl. Qed.

Lemma tr_prompt (X : 'M[R]_(t, n)) (y : 'cV[R]_(1 + p)) :
  (block_mx X 0 0 y)^T = block_mx X^T 0 0 y^T.
Proof. by rewrite tr_block_mx !trmx0. Qed.

Lemma mul_prompt_l (X : 'M[R]_(t, n)) (y : 'cV[R]_(1 + p)) (A B C E : 'M[R]_(_, _)) :
  block_mx X^T 0 0 y^T *m block_mx A B C E
  = block_mx (X^T *m A) (X^T *m B) (y^T *m C) (y^T *m E) :> 'M[R]_(n + 1).
Proof. by rewrite mulmx_block; mxsimpl. Qed.

(* The whole output of one block on a prompt, block by block. *)
Lemma lsa_block_blocks (P V : 'M[R]_(t + (1 + p))) (X : 'M[R]_(t, n)) (y : 'cV[R]_(1 + p)) :
  let G11 := X^T *m (P11 P *m X) in let G12 := X^T *m (P12 P *m y) in
  let G21 := y^T *m (P21 P *m X) in let G22 := y^T *m (P22 P *m y) in
  lsa_block P V (block_mx X 0 0 y)
  = block_mx (X + n%:R^-1 *: (ulsubmx V *m X *m G11 + ursubmx V *m y *m G21))
             (n%:R^-1 *: (ulsubmx V *m X *m G12 + ursubmx V *m y *m G22))
             (n%:R^-1 *: (dlsubmx V *m X *m G11 + drsubmx V *m y *m G21))
             (y + n%:R^-1 *: (dlsubmx V *m X *m G12 + drsubmx V *m y *m G22)).
Proof.
rewrite /lsa_block -[_^T *m P *m _]mulmxA !mul_prompt_r tr_prompt mul_prompt_l mulmx_block.
by rewrite scale_block_mx add_block_mx; mxsimpl.
Qed.

Lemma Sigma_hatE (X : 'M[R]_(t, n)) : Sigma_hat X = n%:R^-1 *: (X *m X^T).
Proof. by rewrite /Sigma_hat mulmx_tr_sum. Qed.

(* Lemma C.1's algebra for arbitrary P, V (all blocks), general t, p. *)
Lemma readout_identity_general (P V : 'M[R]_(t + (1 + p))) (X : 'M[R]_(t, n))
    (theta : 'cV[R]_p) :
  let wt := col_mx 1%:M theta in
  parameter_readout (lsa_block P V (param_prompt X theta))
  = theta + V21_bar V *m Sigma_hat X *m P12 P *m wt
          + n%:R^-1 *: (V22_bar V *m wt *m wt^T *m P22 P *m wt).
Proof.
rewrite /parameter_readout /param_prompt lsa_block_blocks block_mxKdr Sigma_hatE.
rewrite -(vsubmxK (dlsubmx V)) -(vsubmxK (drsubmx V)) !mul_col_mx add_col_mx scale_col_mx.
rewrite add_col_mx col_mxKd /V21_bar /V22_bar scalerDr -addrA; congr (_ + _).
by scal_out.
Qed.

End LSA.
