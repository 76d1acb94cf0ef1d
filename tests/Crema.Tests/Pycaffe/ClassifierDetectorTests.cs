using Crema.Data;
using Crema.Imaging;
using Crema.Nets;
using Crema.Proto;

namespace Crema.Tests.Pycaffe;

/// <summary>Classifier (SqueezeNet on the cat photo, LeNet's ten-crop average) and Detector (LeNet on windows, context-pad crops).</summary>
public sealed class ClassifierDetectorTests
{
    private static readonly string LeNetModel = RepoPaths.Get("examples", "mnist", "lenet.prototxt");
    private static readonly string LeNetWeights = RepoPaths.Get("tests", "Crema.Tests", "TestData", "caffemodels", "lenet_iter_10000.caffemodel");

    // LeNet was trained on pixel/256: [0, 1] images × 255 × 1/256.
    private static readonly ImagePreprocessing Mnist = new(RawScale: 255, InputScale: 0.00390625f);

    private static (FloatImage[] Digits, int[] Labels) TestDigits(int count)
    {
        string dir = RepoPaths.Get("data", "mnist-10k");
        var images = IdxFile.Read(Path.Combine(dir, "test-images-idx3-ubyte.gz"), count);
        var labels = IdxFile.Read(Path.Combine(dir, "test-labels-idx1-ubyte.gz"), count);
        var digits = Enumerable.Range(0, count).Select(i => new FloatImage(28, 28, 1, images.Item(i).ToArray().Select(b => b / 255f).ToArray())).ToArray();
        return (digits, labels.Data.Take(count).Select(b => (int)b).ToArray());
    }

    private static int ArgMax(float[] v) => Array.IndexOf(v, v.Max());

    [Fact]
    public void SqueezeNet_CatPhoto_CentreOnly_TopThreeAsCaffe()
    {
        Log.Quiet = true;
        string dir = RepoPaths.Get("examples", "feature_extraction");
        using var classifier = new Classifier(Path.Combine(dir, "SqueezeNet_deploy.prototxt"), Path.Combine(dir, "squeezenet_v1.0_decoded.caffemodel"), ImagePreprocessing.ImageNet);
        Assert.Equal((227, 227), classifier.CropDimensions);
        var scores = classifier.Predict([ImageIO.Load(Path.Combine(dir, "cat.jpg"))], oversample: false)[0];
        Assert.Equal(1000, scores.Length);
        int[] top3 = scores.Select((s, i) => (s, i)).OrderByDescending(p => p.s).Take(3).Select(p => p.i).ToArray();
        // Real Caffe, same weights, 227×227 BGR − (104, 117, 123) (shared/models/SOURCES.md): 278 kit fox, then 263 and 277.
        Assert.Equal(278, top3[0]);
        Assert.Contains(263, top3);
        Assert.Contains(277, top3);
    }

    [Fact]
    public void Oversample_AveragesTheTenCropsOfEachImage()
    {
        Log.Quiet = true;
        using var classifier = new Classifier(LeNetModel, LeNetWeights, Mnist, imageDimensions: (32, 30));
        var (digits, labels) = TestDigits(3);
        var predictions = classifier.Predict(digits);
        Assert.Equal(3, predictions.Length);
        for (int i = 0; i < digits.Length; i++)
        {
            // Reference: each crop alone through Forward(inputs) (a batch of 64 with the crop in slot 0), then the mean.
            var resized = ImageIO.Resize(digits[i], 32, 30);
            var expected = new double[10];
            foreach (var crop in ImageIO.Oversample([resized], 28, 28))
            {
                var batch = new float[64 * 28 * 28];
                classifier.Transformer.Preprocess("data", crop).CopyTo(batch, 0);
                var prob = classifier.Net.Forward(new Dictionary<string, float[]> { ["data"] = batch })["prob"];
                for (int k = 0; k < 10; k++)
                {
                    expected[k] += prob[k] / 10.0;
                }
            }
            for (int k = 0; k < 10; k++)
            {
                Assert.Equal(expected[k], predictions[i][k], 5);
            }
            Assert.Equal(labels[i], ArgMax(predictions[i]));
        }
        var centre = classifier.Predict(digits, oversample: false);
        Assert.Equal(labels, centre.Select(ArgMax));
    }

    [Fact]
    public void Detector_TwoDigitsSideBySide_EachWindowGetsItsDigit()
    {
        Log.Quiet = true;
        var (digits, labels) = TestDigits(4);
        // A 28×56 image: digit 0 on the left, digit 1 on the right; and a second image with digits 2 and 3.
        FloatImage Pair(int a, int b)
        {
            var image = new FloatImage(28, 56, 1);
            for (int y = 0; y < 28; y++)
            {
                for (int x = 0; x < 28; x++)
                {
                    image[y, x, 0] = digits[a][y, x, 0];
                    image[y, x + 28, 0] = digits[b][y, x, 0];
                }
            }
            return image;
        }
        using var detector = new Detector(LeNetModel, LeNetWeights, Mnist);
        Window left = new(0, 0, 28, 28), right = new(0, 28, 28, 56);
        Assert.Equal(digits[1].Data, detector.Crop(Pair(0, 1), right).Data);
        var detections = detector.DetectWindows([(Pair(0, 1), (IReadOnlyList<Window>)[left, right]), (Pair(2, 3), [right, left])]);
        Assert.Equal(4, detections.Count);
        Assert.Equal([labels[0], labels[1], labels[3], labels[2]], detections.Select(d => ArgMax(d.Prediction)));
        Assert.Equal(right, detections[2].Window);
    }

    [Fact]
    public void Detector_ContextPad_CropsAsPycaffe()
    {
        Log.Quiet = true;
        // The net is only its Input (1, 1, 4, 4): its output is the preprocessed crop itself.
        var param = PrototxtParserHelper("layer { name: \"data\" type: \"Input\" top: \"data\" input_param { shape { dim: 1 dim: 1 dim: 4 dim: 4 } } }");
        using var net = new Net(param, Phase.Test);
        var image = new FloatImage(6, 6, 1, Enumerable.Range(0, 36).Select(i => (float)i).ToArray());
        using var detector = new Detector(net, new ImagePreprocessing(Mean: [0.5f]), contextPad: 1);

        // Window rows/cols [1, 2): scale 4/(4 − 2) = 2, box (0, 0, 4, 4) inside the image, 5 → 4 pixels: im[0:4, 0:4].
        float[] inner = [0, 1, 2, 3, 6, 7, 8, 9, 12, 13, 14, 15, 18, 19, 20, 21];
        Assert.Equal(inner, detector.Crop(image, new Window(1, 1, 2, 2)).Data);

        // Window [0, 1): box (−1, −1, 3, 3); pad round(1·0.8) = 1; clipped (0, 0, 3, 3) → 3×3 of the image at (1, 1), the rest mean 0.5.
        float m = 0.5f;
        float[] corner = [m, m, m, m, m, 0, 1, 2, m, 6, 7, 8, m, 12, 13, 14];
        Assert.Equal(corner, detector.Crop(image, new Window(0, 0, 1, 1)).Data);

        var detection = detector.DetectWindows([(image, (IReadOnlyList<Window>)[new Window(0, 0, 1, 1)])]).Single();
        Assert.Equal(corner.Select(v => v - 0.5f), detection.Prediction);
        Assert.Throws<CremaException>(() => detector.Crop(image, new Window(0, 0, 7, 1)));
    }

    private static NetParameter PrototxtParserHelper(string text) => Crema.Proto.TextFormat.PrototxtParser.Parse<NetParameter>(text, "detector.prototxt");
}
