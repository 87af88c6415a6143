(* The saved counterexamples, proved over rat: the hypotheses they relax are needed.

   - fixtures/counterexamples/linear-td--query-mask.json (linear-td, relax query-mask):
       d = 1, n = 1, gamma = 1/2, phi_0 = phi'_0 = 1 (states [0, 0], x(0) = 1), r_0 = -1,
       query phi_q = 1, alpha = 1 (C = 1), L = 2, mask M = I (the query column is a source).
       Layer 1 still matches, layer 2 does not: violation 1 = |(-1/2) - (-3/2)|.
       Coq: [linear_td_no_mask_layer] (any instance: without the mask each layer runs TD plus
       the extra term -(1/n) C phi_q phi_q^T w), [linear_td_query_mask_needed] (the fixture).
   - fixtures/counterexamples/sarsa-equivalence--p22-zero+v22-bar-zero.json (sarsa-equivalence,
       relax p22-zero and v22-bar-zero): d = 1, n = 1, gamma = 1/2, phi = phi+ = 0, r = 0,
       alpha = 1, w = -1, c = 1, the constructed block plus P22 = [[0,0],[0,1]] and
       V22_bar = [[0, 1]]: TF = -2, w_SARSA = -1 (violation 1, the cubic term of Lemma C.1).
       Coq: [sarsa_p22_v22_needed].
   Provenance: these are refutations of the relaxed statements, [D]. *)
From mathcomp Require Import all_ssreflect all_algebra.
From ICRL Require Import Prelude LinearTD LSA Sarsa.
Set Implicit Arguments.
Unset Strict Implicit.
Unset Printing Implicit Defensive.
Import GRing.Theory.
Local Open Scope ring_scope.

(* ---- linear TD without the query mask, any instance ---- *)
Section NoMask.
Variables (R : fieldType) (d n : nat).
Variables (Phi Phi' : 'M[R]_(d, n)) (gamma : R) (r : 'rV[R]_n) (phi_q : 'cV[R]_d).
Local Notation form := (td_form (A0 Phi phi_q) (B0 Phi' gamma) (y0 r)).

Definition no_mask_step (C : 'M[R]_d) (w : 'cV[R]_d) : 'cV[R]_d :=
  td_step Phi Phi' gamma r C w - n%:R^-1 *: (C *m phi_q *m (phi_q^T *m w)).

(* With M = I the layer keeps the invariant form but the query feeds -w^T phi_q back in. *)
Lemma linear_td_no_mask_layer (C : 'M[R]_d) (w : 'cV[R]_d) :
  masked_layer P_TD (Q_TD C) 1%:M (form w) = form (no_mask_step C w).
Proof.
rewrite (masked_layer_form _ _ (G := C *m A0 Phi phi_q)); last by rewrite /td_form Q_TD_gram.
rewrite bottom_row trmx1 mulmx1 -mulmxA tr_row_mx /A0 mul_row_col trmxN trmx_mul trmxK.
rewrite mulmxN mulmxDr scalerDr addrA /no_mask_step /td_step [Phi *m _]mulmx_sum_col -scalerN.
apply: (congr1 (td_form _ _ _)); congr (_ + _ *: _ + _ *: _); last first.
  by rewrite mulmxN mulmxA.
by congr (_ *m _); apply: eq_bigr => i _; rewrite mxE.
Qed.
End NoMask.

(* The fixture, over rat. *)
Section LinearTDFixture.
Local Notation R := rat.
Definition cx_Phi : 'M[R]_(1, 1) := 1%:M.           (* phi_0 = x(S_0) = 1 *)
Definition cx_Phi' : 'M[R]_(1, 1) := 1%:M.          (* phi'_0 = x(S_1) = 1 *)
Definition cx_gamma : R := 2%:R^-1.                 (* gamma = 0.5 *)
Definition cx_r : 'rV[R]_1 := (-1)%:M.              (* r_0 = -1 *)
Definition cx_phi_q : 'cV[R]_1 := 1%:M.             (* query state 0 *)
Definition cx_C (l : nat) : 'M[R]_1 := 1%:M.        (* alpha = 1 *)

Definition tf_no_mask (l : nat) : 'M[R]_(1 + 1 + 1, 1 + 1) :=
  iter_layers (fun k Z => masked_layer P_TD (Q_TD (cx_C k)) 1%:M Z)
              (td_prompt cx_Phi cx_Phi' cx_gamma cx_r cx_phi_q) l.

Lemma cx_td_step0 : td_step cx_Phi cx_Phi' cx_gamma cx_r 1%:M 0 = (-1)%:M.
Proof.
apply/matrixP=> i j; rewrite !ord1 /td_step /td_errors /dot !mxE.
rewrite big_ord1 summxE big_ord1 !mxE /= /dot !big_ord1 !mxE /=.
by rewrite !(mul0r, mulr0, subr0, addr0, add0r, mul1r, mulr1, invr1).
Qed.

Local Notation cx_form := (td_form (A0 cx_Phi cx_phi_q) (B0 cx_Phi' cx_gamma) (y0 cx_r)).
Local Notation cx_step := (no_mask_step cx_Phi cx_Phi' cx_gamma cx_r cx_phi_q).

(* linear-td fails at L = 2 without the query mask: the readout is -1/2, w_2^T phi_q = -3/2
   (the two differ by the extra term, here 1). *)
Theorem linear_td_query_mask_needed :
  td_readout (tf_no_mask 2)
  <> (td_iterates cx_Phi cx_Phi' cx_gamma cx_r cx_C 2)^T *m cx_phi_q.
Proof.
have -> : tf_no_mask 2 = cx_form (iter_layers (fun k => cx_step (cx_C k)) 0 2).
  rewrite /tf_no_mask prompt_form.
  by apply: (iter_layers_sim (g := cx_form)) => k w; exact: linear_td_no_mask_layer.
case: (td_form_claim cx_Phi cx_Phi' cx_gamma cx_r cx_phi_q
         (iter_layers (fun k => cx_step (cx_C k)) 0 2)) => _ _ ->.
rewrite /td_iterates /= /no_mask_step /cx_C !mulmx0 !scaler0 !subr0 cx_td_step0.
rewrite trmxD trmxN mulmxDl mulNmx.
set a := (td_step _ _ _ _ _ _)^T *m cx_phi_q; set b := (_ *: _)^T *m cx_phi_q; move=> h.
have : - b = 0 by rewrite -(addKr a (- b)) h addNr.
rewrite /b /cx_phi_q; mxsimpl; rewrite trmxZ tr_scalar_mx.
move/(congr1 (fun M : 'M[R]_1 => M 0 0)); rewrite !mxE /=.
by rewrite invr1 mul1r mulr1n opprK => /eqP; rewrite oner_eq0.
Qed.
End LinearTDFixture.

(* ---- SARSA with P22 and V22_bar both nonzero ---- *)
Section SarsaFixture.
Local Notation R := rat.
Definition sx_Phi : 'M[R]_(1, 1) := 0.       (* phi(s_0, a_0) = 0 *)
Definition sx_Phin : 'M[R]_(1, 1) := 0.      (* phi(s_1, a_1) = 0 *)
Definition sx_gamma : R := 2%:R^-1.
Definition sx_r : 'rV[R]_1 := 0.             (* r_1 = 0 *)
Definition sx_w : 'cV[R]_1 := (-1)%:M.       (* w = -1 *)
(* The perturbations: P22 = [[0, 0], [0, 1]], V22 = [first row 0; V22_bar = [0, 1]]. *)
Definition sx_dP : 'M[R]_(1 + 1 + 1 + (1 + 1)) := block_mx 0 0 0 (block_mx 0 0 0 1%:M).
Definition sx_dV : 'M[R]_(1 + 1 + 1 + (1 + 1)) := block_mx 0 0 0 (col_mx 0 (row_mx 0 1%:M)).

(* sarsa-equivalence fails once P22 <> 0 and V22_bar <> 0 (alpha = 1, c = 1): TF = -2, not -1. *)
Theorem sarsa_p22_v22_needed :
  parameter_readout (lsa_block (1 *: P_star + sx_dP) (1^-1 *: V_star 1 + sx_dV)
                               (sarsa_prompt sx_Phi sx_Phin sx_gamma sx_r sx_w))
  <> w_sarsa sx_Phi sx_Phin sx_gamma sx_r 1 sx_w.
Proof.
rewrite sarsa_readout_identity /= Sigma_hatE /tokens /sx_Phi /sx_Phin /sx_r scaler0.
rewrite !col_mx0; mxsimpl.
rewrite /V22_bar /P22 /sx_dV /sx_dP /P_star /V_star !scale_block_mx !add_block_mx.
rewrite !block_mxKdr; mxsimpl; rewrite col_mxKd mul_row_col; mxsimpl.
rewrite -!mulmxA mul_block_col; mxsimpl; rewrite tr_col_mx mul_row_col; mxsimpl.
rewrite w_sarsaE; mxsimpl; move=> h.
have := congr1 (fun M => - sx_w + M) h; rewrite addKr addNr /sx_w.
rewrite tr_scalar_mx -!scalar_mxM scale_scalar_mx.
move/(congr1 (fun M : 'M[R]_1 => M 0 0)); rewrite !mxE /=.
by rewrite invr1 mul1r mulr1n mulrNN mulr1 => /eqP; rewrite oppr_eq0 oner_eq0.
Qed.
End SarsaFixture.
