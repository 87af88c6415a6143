(* [LL] (arXiv:2605.05755) eq. 3: the softmax policy score, algebraic part, for every number
   of actions and feature dimension, any kernel f in place of exp.

   Registry id (src/theorem/actor_critic.rs, proofs/actor-critic-score.md):
   actor-critic-score [D]: g_lambda(s,a) = phi_pi(s,a) - sum_b pi_lambda(b|s) phi_pi(s,b)
   satisfies sum_a pi_lambda(a|s) g_lambda(s,a) = 0 and equals grad_lambda log pi_lambda(a|s).
   Proved here: the first part ([score_mean_zero]). Not proved: the gradient identity (needs
   exp, log and derivatives).

   Mirrors src/mdp/policy.rs (softmax_score; the policy pi_lambda with exp replaced by f). *)
From mathcomp Require Import all_ssreflect all_algebra.
From ICRL Require Import Prelude.
Set Implicit Arguments.
Unset Strict Implicit.
Unset Printing Implicit Defensive.
Import GRing.Theory.
Local Open Scope ring_scope.

Section Score.
Variables (R : fieldType) (dp na : nat) (f : R -> R).
Variables (phi : 'I_na -> 'cV[R]_dp) (lam : 'cV[R]_dp).

(* pi_lambda(a|s) = f(lambda^T phi(s,a)) / sum_b f(lambda^T phi(s,b)), one state s. *)
Definition pol (a : 'I_na) : R := f (dot lam (phi a)) / \sum_(b < na) f (dot lam (phi b)).

(* g_lambda(s,a) = phi(s,a) - sum_b pi(b|s) phi(s,b). *)
Definition score (a : 'I_na) : 'cV[R]_dp := phi a - \sum_(b < na) pol b *: phi b.

Theorem score_mean_zero : \sum_(b < na) f (dot lam (phi b)) != 0 ->
  \sum_(a < na) pol a *: score a = 0.
Proof.
move=> h; rewrite /score.
under eq_bigr do rewrite scalerBr.
rewrite sumrB -scaler_suml.
have -> : \sum_(a < na) pol a = 1 by rewrite /pol -mulr_suml mulfV.
by rewrite scale1r subrr.
Qed.

End Score.
