(* [XZ] (arXiv:2605.07333) eq. 22 and Assumption 5.1's algebraic parts, for every number of
   states and any kernel f in place of exp.

   Registry id (src/theorem/contraction.rs, proofs/contraction.md): contraction-assumption [Q].
   Its statement has five parts; the algebraic three are proved here:
   - M_pi(s,s') = mu(s') f(g(s,s')) / sum_u mu(u) f(g(s,u)) is row-stochastic (and nonnegative):
       [M_pi_row1], [M_pi_ge0];
   - v_pi is a fixed point of F(v) = v + M (r + gamma P v - v) for ANY matrix M, as soon as
       v_pi = r + gamma P v_pi: [population_fixed_point];
   - one-hot features x = sqrt(beta) e_s (scores g(s,s') = beta [s = s']) with f(0) = 1 and
       sum mu = 1: M_pi(s,s) = mu(s) f(beta) / (mu(s) f(beta) + 1 - mu(s)): [one_hot_diag].
   Not proved: the margin C_5.1 is a definition, and the threshold
   beta >= log(q(1-mu_min)/((1-q)mu_min)) needs exp and log (analysis).

   Mirrors src/rl/softmax_td.rs (population_kernel, one_hot_diag). *)
From mathcomp Require Import all_ssreflect all_algebra.
From mathcomp Require Import ring.
From ICRL Require Import Prelude.
Set Implicit Arguments.
Unset Strict Implicit.
Unset Printing Implicit Defensive.
Import GRing.Theory Num.Theory Order.POrderTheory.
Local Open Scope ring_scope.

Section Population.
Variables (R : realFieldType) (ns : nat).
Variables (g : 'I_ns -> 'I_ns -> R) (f : R -> R) (mu : 'I_ns -> R).

(* [population_kernel] with exp replaced by f (the code subtracts the maximum score, which
   for exp changes nothing). *)
Definition M_pi : 'M[R]_ns :=
  \matrix_(s, t) (mu t * f (g s t) / \sum_(u < ns) mu u * f (g s u)).

Theorem M_pi_ge0 : (forall u, 0 <= mu u) -> (forall y, 0 <= f y) -> forall s t, 0 <= M_pi s t.
Proof.
move=> mu0 f0 s t; rewrite mxE divr_ge0 ?mulr_ge0 //.
by apply: sumr_ge0 => u _; rewrite mulr_ge0.
Qed.

Theorem M_pi_row1 s : \sum_(u < ns) mu u * f (g s u) != 0 -> \sum_t M_pi s t = 1.
Proof.
move=> h; under eq_bigr do rewrite mxE.
by rewrite -mulr_suml mulfV.
Qed.

(* One-hot features: g(s,s') = beta [s = s'], f(0) = 1, sum mu = 1. *)
Theorem one_hot_diag (beta : R) s :
  (forall s t, g s t = if s == t then beta else 0) -> f 0 = 1 -> \sum_u mu u = 1 ->
  M_pi s s = mu s * f beta / (mu s * f beta + 1 - mu s).
Proof.
move=> hg f0 mu1; rewrite mxE hg eqxx; congr (_ / _).
rewrite (bigD1 s) //= hg eqxx -addrA; congr (_ + _).
have := mu1; rewrite (bigD1 s) //= => h.
rewrite -[in RHS]h [mu s + _]addrC addrK; apply: eq_bigr => u hu.
by rewrite hg eq_sym (negbTE hu) f0 mulr1.
Qed.

(* The population operator F(v) = v + M (r + gamma P v - v) fixes v_pi, for any M. *)
Theorem population_fixed_point (M P : 'M[R]_ns) (r v_pi : 'cV[R]_ns) (gamma : R) :
  v_pi = r + gamma *: (P *m v_pi) ->
  v_pi + M *m (r + gamma *: (P *m v_pi) - v_pi) = v_pi.
Proof. by move=> h; rewrite -h subrr mulmx0 addr0. Qed.

End Population.
