import * as z from "zod";
import { defineInstruction, str } from "./define.js";

export const InstallHelmChart = defineInstruction({
  type: "INSTALL_HELM_CHART",
  summary: "helm upgrade --install a chart.",
  payload: z.object({
    repoUrl: str(),
    myRepoName: str(),
    myChartName: str(),
    chartName: str(),
    namespace: str(),
    valuesUrl: str(),
    version: str(),
  }),
  answers: {
    INSTALL_HELM_CHART_RESPONSE: z.object({ response: str() }),
    INSTALL_HELM_CHART_ERROR: z.object({ response: str() }),
  },
  since: 1,
});
