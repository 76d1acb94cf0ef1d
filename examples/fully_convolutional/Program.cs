using Crema.Examples.FullyConvolutional;

FullyConvolutionalExample.Run(new FullyConvolutionalExample.Options(), Console.Out);
