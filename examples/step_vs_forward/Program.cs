using Crema.Examples.StepVsForward;

StepVsForwardExample.Run(new StepVsForwardExample.Options(), Console.Out);
