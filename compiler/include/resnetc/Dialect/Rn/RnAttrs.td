//===- RnAttrs.td - Enum attributes of the rn dialect --------*- tablegen -*-===//

#ifndef RESNETC_DIALECT_RN_RNATTRS_TD
#define RESNETC_DIALECT_RN_RNATTRS_TD

include "resnetc/Dialect/Rn/RnDialect.td"
include "mlir/IR/EnumAttr.td"

def Rn_WeightInit : I32EnumAttr<"WeightInit", "how resnetc init fills a weight", [
    I32EnumAttrCase<"HeNormal", 0, "he_normal">,
    I32EnumAttrCase<"FcUniform", 1, "fc_uniform">,
    I32EnumAttrCase<"Ones", 2, "ones">,
    I32EnumAttrCase<"Zeros", 3, "zeros">]> {
  let cppNamespace = "::resnetc::rn";
  let genSpecializedAttr = 0;
}
// Printed `#rn<init he_normal>`.
def Rn_WeightInitAttr : EnumAttr<Rn_Dialect, Rn_WeightInit, "init">;

def Rn_ShortcutKind : I32EnumAttr<"ShortcutKind", "a shortcut connection's option", [
    I32EnumAttrCase<"A", 0, "A">,
    I32EnumAttrCase<"B", 1, "B">,
    I32EnumAttrCase<"C", 2, "C">,
    I32EnumAttrCase<"Projection", 3, "projection">,
    I32EnumAttrCase<"Identity", 4, "identity">]> {
  let cppNamespace = "::resnetc::rn";
  let genSpecializedAttr = 0;
}
// Printed `#rn<shortcut B>`.
def Rn_ShortcutKindAttr : EnumAttr<Rn_Dialect, Rn_ShortcutKind, "shortcut">;

#endif // RESNETC_DIALECT_RN_RNATTRS_TD
