import * as z from "zod";
import { defineInstruction, str } from "./define.js";

export const UninstallHelmChart = defineInstruction({
  type: "UNINSTALL_HELM_CHART",
  summary: "helm uninstall a release (and remove its repo alias).",
  payload: z.object({ myRepoName: str(), myChartName: str(), namespace: str() }),
  answers: {
    UNINSTALL_HELM_CHART_RESPONSE: z.object({ response: str() }),
    UNINSTALL_HELM_CHART_ERROR: z.object({ response: str() }),
  },
  since: 1,
});
