"""How many faces each shared photo holds, counted by looking at each photo with its boxes
drawn. The detection tests and the detection benchmark both judge detectors against this."""

PORTRAITS = [
    "misc_faces/deepface__img1.jpg",
    "misc_faces/deepface__img3.jpg",
    "misc_faces/deepface__img33.jpg",
    "misc_faces/deepface__img51.jpg",
    "misc_faces/facexlib__test.jpg",
    "misc_faces/facexlib__test2.jpg",
    "misc_faces/spandrel__einstein.png",
    "misc_faces/spandrel__lr-face.jpg",
    "misc_faces/spandrel__blurry-face.jpg",
    "gfpgan_inputs/cropped_faces__Adele_crop.png",
    "restoreformerpp/aligned__046_00022_00_org.png",
    "old_photos/old_w_scratch__b.png",
]
GROUPS = {
    "group_photos/dlib__dogs.jpg": 0,
    "group_photos/deepface__couple.jpg": 2,
    "group_photos/dlib__2008_001322.jpg": 3,
    "group_photos/dlib__2008_002506.jpg": 3,
    "group_photos/dlib__2008_002470.jpg": 6,
    "group_photos/dlib__2008_007676.jpg": 7,
    "group_photos/dlib__2008_004176.jpg": 7,
    "group_photos/dlib__2007_007763.jpg": 7,
    "gfpgan_inputs/whole_imgs__Blake_Lively.jpg": 2,
    "old_photos/old_w_scratch__d.png": 2,
}
