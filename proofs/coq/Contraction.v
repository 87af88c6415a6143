(* [XZ] (arXiv:2605.07333) Thm 2, deterministic core: the pathwise contraction recursion and
   its unrolled form, for every number of states, every window, every step alpha >= 0.

   Registry id and statement (src/theorem/contraction.rs, proofs/contraction.md):
   - contraction-pathwise [D]: the iterates satisfy
       v_{l+1} - v_pi = (I - a M^ + a g P^)(v_l - v_pi) + a (r^ + g P^ v_pi - M^ v_pi),
     hence ||v_{l+1} - v_pi|| <= rho^ ||v_l - v_pi|| + a eps^ and the unrolled bound at every
     layer; rho^ <= max_s [1 - a (2 M^(s,s) - 1 - g)].
     Coq: [pathwise_error] (the identity), [pathwise_step] (one step), [pathwise_unrolled]
     (every layer L, sum form), [pathwise_unrolled_closed] (the (1 - rho^L)/(1 - rho) form),
     [rho_hat_row_bound] (the row-norm bound).
   The iterates are those of the state-space recursion v_{l+1} = (I - a M^ + a g P^) v_l + a r^
   ([StateSpace::step] in src/rl/softmax_td.rs); that the transformer's columns follow it is
   softmax-td-equivalence (SoftmaxTD.v) together with the state-space form (not proved here).

   Mirrors src/rl/softmax_td.rs: StateSpace::step, rho_hat (= ||I - a M^ + a g P^||_inf, the
   max row sum of absolute values); eps_hat (= ||r^ + (g P^ - M^) v_pi||_inf) and the row-norm
   bound are computed, with their rounding bounds, in pathwise (src/theorem/contraction.rs).
   Over any realFieldType; M^, P^, r^, v_pi arbitrary except where the row-norm bound asks for
   nonnegative row-stochastic M^, P^. *)
From mathcomp Require Import all_ssreflect all_algebra.
From mathcomp Require Import ring.
From ICRL Require Import Prelude.
Set Implicit Arguments.
Unset Strict Implicit.
Unset Printing Implicit Defensive.
Import GRing.Theory Num.Theory Order.POrderTheory Order.TotalTheory.
Local Open Scope ring_scope.

Section Contraction.
Variables (R : realFieldType) (ns : nat).

(* ||v||_inf and the induced row norm ||A||_inf = max_s sum_t |A(s,t)|. *)
Definition norm_inf (v : 'cV[R]_ns) : R := \big[Num.max/0]_(i < ns) `|v i 0|.
Definition row_norm (A : 'M[R]_ns) : R := \big[Num.max/0]_(i < ns) \sum_(j < ns) `|A i j|.

(* ---- the max and the norms: one fact each ---- *)
Lemma bigmax_ub (F : 'I_ns -> R) i : F i <= \big[Num.max/0]_j F j.
Proof.
have : i \in index_enum (ordinal_finType ns) by rewrite mem_index_enum.
elim: (index_enum _) => // j r IH; rewrite inE big_cons.
case/orP=> [/eqP <-|/IH h]; first by rewrite le_maxr lexx.
by rewrite le_maxr h orbT.
Qed.

Lemma bigmax_lub (F : 'I_ns -> R) b :
  0 <= b -> (forall i, F i <= b) -> \big[Num.max/0]_j F j <= b.
Proof. by move=> b0 hF; apply: (big_ind (fun x => x <= b)) => // x y hx hy; rewrite le_maxl hx. Qed.

Lemma bigmax_ge0 (F : 'I_ns -> R) : 0 <= \big[Num.max/0]_j F j.
Proof. by apply: (big_rec (fun x => 0 <= x)) => // i x _ hx; rewrite le_maxr hx orbT. Qed.

Lemma norm_inf_ge0 v : 0 <= norm_inf v.
Proof. exact: bigmax_ge0. Qed.

Lemma row_norm_ge0 A : 0 <= row_norm A.
Proof. exact: bigmax_ge0. Qed.

Lemma norm_inf_add u w : norm_inf (u + w) <= norm_inf u + norm_inf w.
Proof.
apply: bigmax_lub; first by rewrite addr_ge0 ?norm_inf_ge0.
move=> i; rewrite mxE; apply: le_trans (ler_norm_add _ _) _.
by rewrite ler_add ?(bigmax_ub (fun j => `|_ j 0|)).
Qed.

Lemma norm_inf_scale (a : R) u : 0 <= a -> norm_inf (a *: u) <= a * norm_inf u.
Proof.
move=> a0; apply: bigmax_lub; first by rewrite mulr_ge0 ?norm_inf_ge0.
move=> i; rewrite mxE normrM ger0_norm //; apply: ler_wpmul2l => //.
exact: (bigmax_ub (fun j => `|u j 0|)).
Qed.

Lemma norm_inf_mul A v : norm_inf (A *m v) <= row_norm A * norm_inf v.
Proof.
apply: bigmax_lub; first by rewrite mulr_ge0 ?row_norm_ge0 ?norm_inf_ge0.
move=> i; rewrite mxE; apply: le_trans (ler_norm_sum _ _ _) _.
apply: (@le_trans _ _ ((\sum_(j < ns) `|A i j|) * norm_inf v)).
  rewrite mulr_suml; apply: ler_sum => j _; rewrite normrM.
  by apply: ler_wpmul2l => //; exact: (bigmax_ub (fun k => `|v k 0|)).
apply: ler_wpmul2r; first exact: norm_inf_ge0.
exact: (bigmax_ub (fun k => \sum_(j < ns) `|A k j|)).
Qed.

(* ---- the quantities of StateSpace ---- *)
Variables (M_hat P_hat : 'M[R]_ns) (r_hat v_pi : 'cV[R]_ns) (gamma : R).

(* [StateSpace::step]: v + a (r^ + (g P^ - M^) v). *)
Definition ss_step (alpha : R) (v : 'cV[R]_ns) : 'cV[R]_ns :=
  v + alpha *: (r_hat + (gamma *: P_hat - M_hat) *m v).

Definition T_hat (alpha : R) : 'M[R]_ns := 1%:M - alpha *: M_hat + (alpha * gamma) *: P_hat.

(* [rho_hat], [eps_hat]. *)
Definition rho_hat (alpha : R) : R := row_norm (T_hat alpha).
Definition eps_hat : R := norm_inf (r_hat + (gamma *: P_hat - M_hat) *m v_pi).

(* The error identity (any field would do). *)
Lemma pathwise_error (alpha : R) v :
  ss_step alpha v - v_pi
  = T_hat alpha *m (v - v_pi) + alpha *: (r_hat + (gamma *: P_hat - M_hat) *m v_pi).
Proof.
rewrite /ss_step /T_hat ?(mulmxDl, mulmxBl, mulmxDr, mulmxBr, mul1mx, scalemxAlR, mulmxN, mulNmx).
apply/colP=> i; rewrite !mxE.
set a := \sum_j P_hat i j * v j 0; set b := \sum_j M_hat i j * v j 0.
set c := \sum_j P_hat i j * v_pi j 0; set e := \sum_j M_hat i j * v_pi j 0.
ring.
Qed.

(* One step: ||v_{l+1} - v_pi|| <= rho^ ||v_l - v_pi|| + a eps^, for every a >= 0. *)
Theorem pathwise_step (alpha : R) v : 0 <= alpha ->
  norm_inf (ss_step alpha v - v_pi) <= rho_hat alpha * norm_inf (v - v_pi) + alpha * eps_hat.
Proof.
move=> a0; rewrite pathwise_error; apply: le_trans (norm_inf_add _ _) _.
by rewrite ler_add ?norm_inf_mul ?norm_inf_scale.
Qed.

Definition ss_iterates (alpha : R) (v0 : 'cV[R]_ns) := iter_layers (fun _ => ss_step alpha) v0.

(* Every layer L: ||v_L - v_pi|| <= rho^L ||v_0 - v_pi|| + a eps^ sum_{k<L} rho^k.
   No assumption on rho^ (not even rho^ < 1). *)
Theorem pathwise_unrolled (alpha : R) v0 (L : nat) : 0 <= alpha ->
  norm_inf (ss_iterates alpha v0 L - v_pi)
  <= rho_hat alpha ^+ L * norm_inf (v0 - v_pi)
     + alpha * eps_hat * \sum_(k < L) rho_hat alpha ^+ k.
Proof.
move=> a0; have rho0 := row_norm_ge0 (T_hat alpha).
have e0 : 0 <= alpha * eps_hat by rewrite mulr_ge0 ?norm_inf_ge0.
elim: L => [|L IH] /=; first by rewrite expr0 mul1r big_ord0 mulr0 addr0.
apply: le_trans (pathwise_step _ a0) _.
apply: (@le_trans _ _ (rho_hat alpha * (rho_hat alpha ^+ L * norm_inf (v0 - v_pi)
                        + alpha * eps_hat * \sum_(k < L) rho_hat alpha ^+ k)
                        + alpha * eps_hat)).
  by rewrite ler_add2r; apply: ler_wpmul2l.
rewrite big_ord_recl /= expr0 exprS.
have -> : \sum_(i < L) rho_hat alpha ^+ (lift ord0 i) = rho_hat alpha * \sum_(k < L) rho_hat alpha ^+ k.
  by rewrite mulr_sumr; apply: eq_bigr => i _; rewrite /= exprS.
set Sg := \sum_(k < L) _; set Z := norm_inf _.
by rewrite le_eqVlt; apply/orP; left; apply/eqP; ring.
Qed.

(* The closed form, whenever rho^ <> 1 (rho^ < 1 is not needed for the identity). *)
Theorem pathwise_unrolled_closed (alpha : R) v0 (L : nat) : 0 <= alpha -> rho_hat alpha != 1 ->
  norm_inf (ss_iterates alpha v0 L - v_pi)
  <= rho_hat alpha ^+ L * norm_inf (v0 - v_pi)
     + alpha * eps_hat * (1 - rho_hat alpha ^+ L) / (1 - rho_hat alpha).
Proof.
move=> a0 rho1; apply: le_trans (pathwise_unrolled _ _ a0) _.
have h : 1 - rho_hat alpha != 0 by rewrite subr_eq0 eq_sym.
have -> : \sum_(k < L) rho_hat alpha ^+ k = (1 - rho_hat alpha ^+ L) / (1 - rho_hat alpha).
  apply: (mulfI h); rewrite [RHS]mulrC -mulrA mulVf // mulr1.
  by rewrite -[1 - _ ^+ L]opprB subrX1 -mulNr opprB.
by rewrite mulrA.
Qed.

(* The row-norm bound, for 0 <= a <= 1, g >= 0 and nonnegative row-stochastic M^, P^. *)
Theorem rho_hat_row_bound (alpha : R) :
  0 <= alpha -> alpha <= 1 -> 0 <= gamma ->
  (forall s t, 0 <= M_hat s t) -> (forall s t, 0 <= P_hat s t) ->
  (forall s, \sum_t M_hat s t = 1) -> (forall s, \sum_t P_hat s t = 1) ->
  rho_hat alpha
  <= \big[Num.max/0]_(s < ns) (1 - alpha * (2%:R * M_hat s s - 1 - gamma)).
Proof.
move=> a0 a1 g0 M0 P0 M1 P1; apply: bigmax_lub; first exact: bigmax_ge0.
move=> s; apply: le_trans (bigmax_ub (fun s => 1 - alpha * (2%:R * M_hat s s - 1 - gamma)) s).
have ag0 : 0 <= alpha * gamma by rewrite mulr_ge0.
have Mss1 : M_hat s s <= 1.
  have := M1 s; rewrite (bigD1 s) //= => <-.
  by rewrite ler_addl; apply: sumr_ge0.
have Msum : \sum_(t | t != s) M_hat s t = 1 - M_hat s s.
  by have := M1 s; rewrite (bigD1 s) //= => <-; rewrite [M_hat s s + _]addrC addrK.
have Psum : \sum_(t | t != s) P_hat s t = 1 - P_hat s s.
  by have := P1 s; rewrite (bigD1 s) //= => <-; rewrite [P_hat s s + _]addrC addrK.
rewrite (bigD1 s) //=.
have -> : `|T_hat alpha s s| = 1 - alpha * M_hat s s + alpha * gamma * P_hat s s.
  rewrite /T_hat !mxE eqxx ger0_norm //= addr_ge0 ?mulr_ge0 // subr_ge0.
  by rewrite -[1]mul1r ler_pmul.
apply: (@le_trans _ _ (1 - alpha * M_hat s s + alpha * gamma * P_hat s s
          + \sum_(t | t != s) (alpha * M_hat s t + alpha * gamma * P_hat s t))).
  rewrite ler_add2l; apply: ler_sum => t ts; rewrite /T_hat !mxE eq_sym (negbTE ts) /=.
  rewrite sub0r; apply: le_trans (ler_norm_add _ _) _.
  by rewrite normrN !ger0_norm ?mulr_ge0.
rewrite big_split /= -!mulr_sumr Msum Psum.
by rewrite le_eqVlt; apply/orP; left; apply/eqP; ring.
Qed.

End Contraction.
