using System.Globalization;
using Crema.Examples;

// dotnet run -c Release --project examples/feature_extraction [-- lenet_training_iterations]
var options = new FeatureExtraction.Options(FeatureExtraction.FindRepoRoot(AppContext.BaseDirectory));
if (args.Length > 0)
{
    options = options with { TrainIterations = int.Parse(args[0], CultureInfo.InvariantCulture) };
}
FeatureExtraction.Run(options, Console.Out);
