using System.Globalization;
using Crema.Examples;

// dotnet run -c Release --project examples/location_specific_filters [-- iterations]
var options = new LocationSpecificFilters.Options(AppContext.BaseDirectory);
if (args.Length > 0)
{
    options = options with { Iterations = int.Parse(args[0], CultureInfo.InvariantCulture) };
}
LocationSpecificFilters.Run(options, Console.Out);
