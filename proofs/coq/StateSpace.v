(* [XZ] (arXiv:2605.07333) eq. 20: the state-space form of weighted softmax TD, for every
   number of states, every window and any kernel f.

   Registry id and statement (src/theorem/softmax_td.rs, proofs/softmax-td.md):
   - softmax-td-state-space [D] (definitions [Q]): M^_n, P^_n are nonnegative and
       row-stochastic, r^_n = M^_n r, and v_{l+1} = (I - alpha M^_n + alpha gamma P^_n) v_l
       + alpha r^_n equals the per-column iterates.
     Coq: [state_space_step] (the recursion, for every state and every v),
       [state_space_iterates] (every layer, as vectors: the iterates of Contraction.ss_step),
       [r_hat_M_hat] (r^ = M^ r when R_{k+1} = r(S_k)), [M_hat_ge0], [P_hat_ge0] (f >= 0),
       [M_hat_row1], [P_hat_row1] (f > 0, n > 0).
   With softmax_td_equivalence (SoftmaxTD.v) the transformer's column j holds
   v_l(S_j) = the s = S_j entry of these iterates; with Contraction.v the pathwise bound applies
   to them.

   Mirrors src/rl/softmax_td.rs (WeightedSoftmaxTd::state_space, StateSpace::step). States are
   'I_ns; st k = S_k, rw k = R_{k+1}, kernel as in SoftmaxTD.v. Over any field (order only for
   the sign facts). *)
From mathcomp Require Import all_ssreflect all_algebra.
From mathcomp Require Import ring.
From ICRL Require Import Prelude SoftmaxTD Contraction.
Set Implicit Arguments.
Unset Strict Implicit.
Unset Printing Implicit Defensive.
Import GRing.Theory Num.Theory Order.POrderTheory.
Local Open Scope ring_scope.

Section StateSpace.
Variables (R : realFieldType) (d n ns : nat).
Variables (x : 'I_ns -> 'cV[R]_d) (st : nat -> 'I_ns) (rw : nat -> R) (gamma : R)
          (f : R -> R).

Local Notation K := (kernel n x st f).

(* [XZ] eq. 20, as WeightedSoftmaxTd::state_space. *)
Definition M_hat : 'M[R]_ns := \matrix_(s, s') \sum_(k < n) K k s * (st k == s')%:R.
Definition P_hat : 'M[R]_ns := \matrix_(s, s') \sum_(k < n) K k s * (st k.+1 == s')%:R.
Definition r_hat : 'cV[R]_ns := \col_s \sum_(k < n) K k s * rw k.

Definition vec (v : 'I_ns -> R) : 'cV[R]_ns := \col_s v s.

Lemma sum_indicator (F : 'I_ns -> R) (t : 'I_ns) : \sum_(s' < ns) (t == s')%:R * F s' = F t.
Proof.
rewrite (bigD1 t) //= eqxx mul1r big1 ?addr0 // => s' hs'.
by rewrite eq_sym (negbTE hs') mul0r.
Qed.

Lemma M_hat_mul v s : \sum_(j < ns) M_hat s j * vec v j 0 = \sum_(k < n) K k s * v (st k).
Proof.
under eq_bigr do rewrite !mxE mulr_suml.
rewrite exchange_big; apply: eq_bigr => k _.
by rewrite -(sum_indicator (fun s' => K k s * v s') (st k)); apply: eq_bigr => s' _; ring.
Qed.

Lemma P_hat_mul v s : \sum_(j < ns) P_hat s j * vec v j 0 = \sum_(k < n) K k s * v (st k.+1).
Proof.
under eq_bigr do rewrite !mxE mulr_suml.
rewrite exchange_big; apply: eq_bigr => k _.
by rewrite -(sum_indicator (fun s' => K k s * v s') (st k.+1)); apply: eq_bigr => s' _; ring.
Qed.

(* The recursion, state by state: sm_step = StateSpace::step. *)
Theorem state_space_step (alpha : R) (v : 'I_ns -> R) :
  vec (sm_step n x st rw gamma f alpha v)
  = ss_step M_hat P_hat r_hat gamma alpha (vec v).
Proof.
rewrite /ss_step mulmxBl -scalemxAl.
set Pv := P_hat *m vec v; set Mv := M_hat *m vec v.
apply/colP=> s; rewrite !mxE P_hat_mul M_hat_mul /sm_step /sm_delta.
rewrite [gamma * _]mulr_sumr -sumrB -big_split /=.
congr (_ + _ * _); apply: eq_bigr => k _; ring.
Qed.

Theorem state_space_iterates (alphas : nat -> R) (l : nat) :
  vec (sm_iterates n x st rw gamma f alphas l)
  = iter_layers (fun k => ss_step M_hat P_hat r_hat gamma (alphas k)) 0 l.
Proof.
elim: l => [|l IH] /=; first by apply/colP=> s; rewrite !mxE.
by rewrite state_space_step IH.
Qed.

(* r^ = M^ r when the rewards are a state function, R_{k+1} = r(S_k). *)
Theorem r_hat_M_hat (r : 'I_ns -> R) : (forall k, rw k = r (st k)) -> r_hat = M_hat *m vec r.
Proof. by move=> hr; apply/colP=> s; rewrite !mxE M_hat_mul; apply: eq_bigr => k _; rewrite hr. Qed.

Lemma kernel_ge0 k s : (forall g, 0 <= f g) -> 0 <= K k s.
Proof. by move=> f0; rewrite /kernel divr_ge0 // sumr_ge0. Qed.

Theorem M_hat_ge0 : (forall g, 0 <= f g) -> forall s s', 0 <= M_hat s s'.
Proof.
move=> f0 s s'; rewrite mxE; apply: sumr_ge0 => k _.
by apply: mulr_ge0; [exact: kernel_ge0 | exact: ler0n].
Qed.

Theorem P_hat_ge0 : (forall g, 0 <= f g) -> forall s s', 0 <= P_hat s s'.
Proof.
move=> f0 s s'; rewrite mxE; apply: sumr_ge0 => k _.
by apply: mulr_ge0; [exact: kernel_ge0 | exact: ler0n].
Qed.

Lemma kernel_sum1 s : (forall g, 0 < f g) -> (0 < n)%N -> \sum_(k < n) K k s = 1.
Proof.
move=> f0 n0; rewrite /kernel -mulr_suml mulfV //.
rewrite lt0r_neq0 //; case: n n0 => // n' _.
by rewrite big_ord_recl ltr_paddr ?sumr_ge0 // => *; apply: ltW.
Qed.

Theorem M_hat_row1 : (forall g, 0 < f g) -> (0 < n)%N -> forall s, \sum_t M_hat s t = 1.
Proof.
move=> f0 n0 s; rewrite -(kernel_sum1 s f0 n0).
under eq_bigr do rewrite mxE.
rewrite exchange_big; apply: eq_bigr => k _.
have h1 : \sum_t ((st k) == t)%:R = 1 :> R.
  rewrite -[RHS](sum_indicator (fun _ => 1) (st k)).
  by apply: eq_bigr => t _; rewrite mulr1.
by rewrite -mulr_sumr h1 mulr1.
Qed.

Theorem P_hat_row1 : (forall g, 0 < f g) -> (0 < n)%N -> forall s, \sum_t P_hat s t = 1.
Proof.
move=> f0 n0 s; rewrite -(kernel_sum1 s f0 n0).
under eq_bigr do rewrite mxE.
rewrite exchange_big; apply: eq_bigr => k _.
have h1 : \sum_t ((st k.+1) == t)%:R = 1 :> R.
  rewrite -[RHS](sum_indicator (fun _ => 1) (st k.+1)).
  by apply: eq_bigr => t _; rewrite mulr1.
by rewrite -mulr_sumr h1 mulr1.
Qed.

End StateSpace.
