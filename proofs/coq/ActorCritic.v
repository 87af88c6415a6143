(* [LL] Thm 3.3 in our reconstruction [R] (arXiv:2605.05755; the paper's exact equations were
   not recovered, see proofs/actor-critic-equivalence.md): the same linear-attention block,
   extended by the actor score, performs one batch TD-error actor-critic step. All dimensions.

   Registry id and statement (src/theorem/actor_critic.rs):
   - actor-critic-equivalence [R]: the block (c P_star, c^-1 V_star) extended by zero rows for
       psi and beta I_{d_pi} into the lambda rows maps [f_i; gamma f+_i; r_{i+1}; psi_i | 1; w; lambda]
       to (w + (alpha/n) sum delta_i f_i, lambda + (beta/n) sum delta_i psi_i) exactly.
       Coq: [actor_critic_equivalence] (and [actor_critic_block], the whole output).
   This proves the [R] statement; it says nothing about whether [LL]'s Thm 3.3 has this form.

   Mirrors src/attention/prompt.rs (actor_critic_prompt: token [f; gamma f+; r; psi], parameter
   column [1; w; lambda], D = 3d + 2 + 2 d_pi), src/construction/sarsa.rs (p_star, v_star with
   Shape { d, dp }), src/rl/actor_critic.rs (batch_actor_critic). Over any field. *)
From mathcomp Require Import all_ssreflect all_algebra.
From mathcomp Require Import ring.
From ICRL Require Import Prelude LSA Sarsa.
Set Implicit Arguments.
Unset Strict Implicit.
Unset Printing Implicit Defensive.
Import GRing.Theory.
Local Open Scope ring_scope.

Section ActorCritic.
Variables (R : fieldType) (d dp n : nat).

(* [p_star] with Shape { d, dp } at c = 1: P12 is the SARSA block with zero columns for lambda
   and zero rows for psi. *)
Definition P12_star_ac : 'M[R]_(d + d + 1 + dp, 1 + (d + dp)) :=
  col_mx (col_mx (col_mx (row_mx 0 (row_mx (- 1%:M) 0))
                         (row_mx 0 (row_mx 1%:M 0)))
                 (row_mx 1%:M 0))
         0.
Definition P_star_ac : 'M[R]_(d + d + 1 + dp + (1 + (d + dp))) := block_mx 0 P12_star_ac 0 0.

(* [v_star] with Shape { d, dp } at c = 1: first row zero; alpha I from f_i into the w rows,
   beta I from psi_i into the lambda rows. *)
Definition V21_star_ac (alpha beta : R) : 'M[R]_(1 + (d + dp), d + d + 1 + dp) :=
  col_mx 0 (col_mx (row_mx (row_mx (row_mx (alpha *: 1%:M) 0) 0) 0)
                   (row_mx 0 (beta *: 1%:M))).
Definition V_star_ac (alpha beta : R) : 'M[R]_(d + d + 1 + dp + (1 + (d + dp))) :=
  block_mx 0 0 (V21_star_ac alpha beta) 0.

Variables (F Fn : 'M[R]_(d, n)) (Psi : 'M[R]_(dp, n)) (gamma : R) (r : 'rV[R]_n).
(* columns: f_i = f(s_i,a_i), f+_i = f(s_{i+1},a_{i+1}), psi_i = g_lambda(s_i,a_i). *)

Definition tokens_ac : 'M[R]_(d + d + 1 + dp, n) := col_mx (tokens F Fn gamma r) Psi.

(* [actor_critic_prompt]. *)
Definition ac_prompt (w : 'cV[R]_d) (lam : 'cV[R]_dp) := param_prompt tokens_ac (col_mx w lam).

(* [batch_actor_critic]: (w + sum (alpha/n delta_i) f_i, lam + sum (beta/n delta_i) psi_i),
   delta_i = r_{i+1} + gamma w^T f+_i - w^T f_i. *)
Definition ac_step (alpha beta : R) (w : 'cV[R]_d) (lam : 'cV[R]_dp) : 'cV[R]_(d + dp) :=
  col_mx (w + \sum_(i < n) (alpha / n%:R * td_errors F Fn gamma r w 0 i) *: col i F)
         (lam + \sum_(i < n) (beta / n%:R * td_errors F Fn gamma r w 0 i) *: col i Psi).

Lemma tokens_ac_P12 (w : 'cV[R]_d) (lam : 'cV[R]_dp) :
  tokens_ac^T *m (P12_star_ac *m col_mx 1%:M (col_mx w lam))
  = (td_errors F Fn gamma r w)^T.
Proof.
rewrite -(tokens_P12_star F Fn gamma r w) /tokens_ac /P12_star_ac /P12_star tr_col_mx.
by rewrite !mul_col_mx !mul_row_col; mxsimpl.
Qed.

Lemma V21_bar_ac_tokens (alpha beta : R) :
  dsubmx (V21_star_ac alpha beta) *m tokens_ac = col_mx (alpha *: F) (beta *: Psi).
Proof.
rewrite /V21_star_ac col_mxKd mul_col_mx /tokens_ac !mul_row_col; mxsimpl.
by rewrite !scalemxAlR !mul1mx.
Qed.

Lemma ac_stepE alpha beta w lam :
  ac_step alpha beta w lam
  = col_mx w lam + n%:R^-1 *: (col_mx (alpha *: F) (beta *: Psi)
                               *m (td_errors F Fn gamma r w)^T).
Proof.
by rewrite /ac_step mul_col_mx scale_col_mx add_col_mx !sum_scaled_cols.
Qed.

(* The whole block output, for c <> 0: the prompt at the actor-critic step. *)
Lemma actor_critic_block (alpha beta c : R) (w : 'cV[R]_d) (lam : 'cV[R]_dp) : c != 0 ->
  lsa_block (c *: P_star_ac) (c^-1 *: V_star_ac alpha beta) (ac_prompt w lam)
  = param_prompt tokens_ac (ac_step alpha beta w lam).
Proof.
move=> c0; rewrite /ac_prompt /param_prompt lsa_block_blocks /P11 /P12 /P21 /P22.
rewrite /P_star_ac /V_star_ac !scale_block_mx.
rewrite !block_mxKul !block_mxKur !block_mxKdl !block_mxKdr.
mxsimpl; congr block_mx.
rewrite !(scalemxArR, scalemxAlR) scalerA mulVf // scale1r tokens_ac_P12.
rewrite -(vsubmxK (V21_star_ac alpha beta)) !mul_col_mx scale_col_mx add_col_mx.
rewrite {1}/V21_star_ac col_mxKu; mxsimpl; congr col_mx.
by rewrite V21_bar_ac_tokens ac_stepE.
Qed.

(* actor-critic-equivalence [R]: every alpha, beta and c <> 0. *)
Theorem actor_critic_equivalence (alpha beta c : R) (w : 'cV[R]_d) (lam : 'cV[R]_dp) :
  c != 0 ->
  parameter_readout (lsa_block (c *: P_star_ac) (c^-1 *: V_star_ac alpha beta) (ac_prompt w lam))
  = ac_step alpha beta w lam.
Proof.
by move=> c0; rewrite actor_critic_block // /parameter_readout /param_prompt
  block_mxKdr col_mxKd.
Qed.

End ActorCritic.

Arguments P12_star_ac {R d dp}.
Arguments P_star_ac {R d dp}.
Arguments V21_star_ac {R d dp}.
Arguments V_star_ac {R d dp}.
