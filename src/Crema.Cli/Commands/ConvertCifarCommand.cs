using System.CommandLine;
using Crema.Data;

namespace Crema.Cli.Commands;

/// <summary>`crema convert_cifar_data input_folder output_folder [db_type]`: CIFAR-10 binary batches → cifar10_{train,test}_DBTYPE, as Caffe's example tool.</summary>
internal static class ConvertCifarCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input_folder") { Description = "Folder holding data_batch_1..5.bin and test_batch.bin (CIFAR-10 binary version)." };
        var output = new Argument<string>("output_folder") { Description = "Where cifar10_train_DBTYPE and cifar10_test_DBTYPE are created." };
        var dbType = new Argument<string>("db_type") { Description = "lmdb or leveldb.", Arity = ArgumentArity.ZeroOrOne, DefaultValueFactory = _ => "lmdb" };
        var command = new Command("convert_cifar_data", "Convert the CIFAR-10 binary batches to train and test databases of Caffe Datum records.") { input, output, dbType };
        command.SetAction(r => CremaCommand.Guard(() =>
        {
            var backend = BackendOption.Parse(r.GetValue(dbType));
            var (train, test) = CifarConverter.Convert(r.GetValue(input)!, r.GetValue(output)!, backend, line => Log.Info(line));
            Log.Info($"Wrote {train} training and {test} test records.");
            return 0;
        }));
        return command;
    }
}
